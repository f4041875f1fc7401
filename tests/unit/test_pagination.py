"""shared.pagination: page sizes and keyset page tokens bound to their query."""
import base64
import json

import pytest

from shared import pagination
from shared.errors import InvalidArgument

QUERY = {"method": "ListUsers", "region": "EUROPE"}


@pytest.mark.parametrize("requested, expected", [(0, 50), (1, 1), (50, 50), (1000, 1000), (1001, 1000),
                                                 (2 ** 31 - 1, 1000)])
def test_page_size(requested, expected):
    assert pagination.page_size(requested) == expected


def test_negative_page_size():
    with pytest.raises(InvalidArgument) as err:
        pagination.page_size(-1)
    assert (err.value.violations[0].field, err.value.violations[0].description) == (
        "page_size", "must not be negative")


def test_token_round_trip():
    token = pagination.encode_token({"id": 123456789012, "name": "zoë"}, QUERY)
    assert "=" not in token
    assert pagination.decode_token(token, dict(reversed(QUERY.items()))) == {"id": 123456789012, "name": "zoë"}


def test_empty_token_is_the_first_page():
    assert pagination.decode_token("", QUERY) is None


def test_token_from_another_query_is_rejected():
    token = pagination.encode_token({"id": 5}, QUERY)
    with pytest.raises(InvalidArgument) as err:
        pagination.decode_token(token, {**QUERY, "region": "ASIA"})
    assert err.value.violations[0].field == "page_token"
    assert "other parameters" in err.value.violations[0].description


def _raw(body) -> str:
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode()


@pytest.mark.parametrize("token", ["garbage!!", "x", _raw([1, 2]), _raw({"p": {"id": 1}}), _raw("text"),
                                   base64.urlsafe_b64encode(b"\xff\xfe").decode()])
def test_garbage_token_is_rejected(token):
    with pytest.raises(InvalidArgument) as err:
        pagination.decode_token(token, QUERY, field="next")
    assert err.value.violations[0].field == "next"
    assert err.value.violations[0].description == "is not a token returned by this method"


def test_token_whose_position_is_not_an_object_is_rejected():
    token = pagination.encode_token([1, 2], QUERY)  # right fingerprint, wrong shape
    with pytest.raises(InvalidArgument, match="is not a token returned by this method"):
        pagination.decode_token(token, QUERY)


@pytest.mark.parametrize("key", [{"id": 2 ** 63}, {"id": -2 ** 63 - 1}, {"id": float("nan")}, {"id": True},
                                 {"id": 5, "o": "x" * 500}])
def test_a_forged_position_no_database_can_compare_is_invalid(key):
    position = {"t": "2026-01-01T00:00:00+00:00", **key}
    with pytest.raises(InvalidArgument) as err:
        pagination.decode_time_key(pagination.encode_token(position, QUERY), QUERY)
    assert err.value.violations[0].field == "page_token"


@pytest.mark.parametrize("when", ["2026-01-01T00:00:00+23:59", "2026-01-01T00:00:00", "not a time"])
def test_a_forged_time_with_an_impossible_or_missing_zone_is_invalid(when):
    with pytest.raises(InvalidArgument):
        pagination.decode_time_key(pagination.encode_token({"t": when, "id": 5}, QUERY), QUERY)
