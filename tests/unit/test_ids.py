"""shared.ids: the 42/11/10-bit shard-encoded ID layout, positive and ordered to its last millisecond."""
from datetime import UTC, datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from shared import ids


def test_round_trip():
    created_ms = ids.EPOCH_MS + 123_456_789
    decoded = ids.decode(ids.encode(created_ms, 2, 77))
    assert decoded == ids.DecodedId(created_ms=created_ms, shard_number=2, sequence=77)


def test_bit_layout():
    # 5 ms after the epoch, shard 3, sequence 9: time above bit 21, shard in bits 10..20, sequence in 0..9
    assert ids.encode(ids.EPOCH_MS + 5, 3, 9) == (5 << 21) | (3 << 10) | 9
    assert ids.TIME_BITS + ids.SHARD_BITS + ids.SEQUENCE_BITS == 63  # the sign bit is never used
    assert ids.MAX_SHARD_NUMBER == 2047


def test_shard_number_extraction_at_the_edges():
    assert ids.decode(ids.encode(ids.EPOCH_MS + 1, ids.MAX_SHARD_NUMBER, 1023)).shard_number == 2047
    assert ids.decode(ids.encode(ids.EPOCH_MS + 1, 1, 0)).shard_number == 1
    assert ids.decode((1 << 21) | (42 << 10)).shard_number == 42


@given(st.integers(min_value=-(1 << 64), max_value=1 << 64) | st.integers(min_value=1, max_value=(1 << 63) - 1))
@example(0)
@example(-1)
@example((1 << 63) - 1)
@example(1 << 63)
def test_shard_number_agrees_with_decode_and_refuses_what_it_refuses(value):
    try:
        expected = ids.decode(value).shard_number
    except ValueError:
        with pytest.raises(ValueError):
            ids.shard_number(value)
    else:
        assert ids.shard_number(value) == expected


def test_sequence_wraps_into_its_ten_bits():
    decoded = ids.decode(ids.encode(ids.EPOCH_MS + 1, 1, 1024 + 5))
    assert (decoded.shard_number, decoded.sequence) == (1, 5)


def test_created_at_is_utc():
    decoded = ids.decode(ids.encode(ids.EPOCH_MS, 1, 1))
    assert decoded.created_at == datetime(2025, 1, 1, tzinfo=UTC)


def test_epoch_matches_the_sql_generator():
    assert ids.EPOCH_MS == int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize("bad", [0, -1, -(1 << 40), 1 << 63, (1 << 64) + 5])
def test_decode_rejects_non_positive_or_too_large(bad):
    with pytest.raises(ValueError, match="positive 64-bit"):
        ids.decode(bad)


def test_largest_id_is_accepted():
    assert ids.decode((1 << 63) - 1).shard_number == ids.MAX_SHARD_NUMBER


@pytest.mark.parametrize("shard", [-1, ids.MAX_SHARD_NUMBER + 1])
def test_encode_rejects_shard_out_of_range(shard):
    with pytest.raises(ValueError, match="shard number out of range"):
        ids.encode(ids.EPOCH_MS + 1, shard, 0)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_ids_stay_positive_and_ordered_at_the_end_of_2100():
    last_2100 = _ms(datetime(2100, 12, 31, 23, 59, 59, 999000, tzinfo=UTC))
    late = ids.encode(last_2100, ids.MAX_SHARD_NUMBER, ids.MAX_SEQUENCE)
    assert 0 < late < (1 << 63)
    assert ids.decode(late) == ids.DecodedId(last_2100, ids.MAX_SHARD_NUMBER, ids.MAX_SEQUENCE)
    assert late > ids.encode(last_2100 - 1, ids.MAX_SHARD_NUMBER, ids.MAX_SEQUENCE)
    assert late > ids.encode(_ms(datetime(2026, 12, 1, tzinfo=UTC)), 1, 0)


def test_the_last_millisecond_of_the_layout_is_the_largest_positive_bigint():
    assert ids.encode(ids.LAST_MS, ids.MAX_SHARD_NUMBER, ids.MAX_SEQUENCE) == (1 << 63) - 1
    assert ids.decode((1 << 63) - 1).created_at.year == 2164
    assert ids.encode(ids.LAST_MS - 1, ids.MAX_SHARD_NUMBER, ids.MAX_SEQUENCE) < ids.encode(ids.LAST_MS, 1, 0)


@pytest.mark.parametrize("created_ms", [ids.EPOCH_MS - 1, ids.LAST_MS + 1])
def test_encode_refuses_a_time_the_layout_cannot_hold(created_ms):
    with pytest.raises(ValueError, match="outside the ID layout"):
        ids.encode(created_ms, 1, 0)


parts = st.tuples(st.integers(ids.EPOCH_MS, ids.LAST_MS), st.integers(0, ids.MAX_SHARD_NUMBER),
                  st.integers(0, ids.MAX_SEQUENCE))


@given(parts, parts)
def test_ids_order_as_their_time_shard_and_sequence_over_the_whole_layout(a, b):
    id_a, id_b = ids.encode(*a), ids.encode(*b)
    assert 0 <= id_a < (1 << 63) and 0 <= id_b < (1 << 63)
    assert (id_a < id_b) == (a < b)
