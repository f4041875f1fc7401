"""services.users.service: creating and reading users (validation, placement, idempotency, uniqueness)."""
import pytest

from shared import ids
from shared.errors import AlreadyExists, InvalidArgument, NotFound
from tests.unit.fakes import empty_profile
from tests.unit.helpers import create, violations


def test_create_places_the_user_on_its_region_shard(service, store, shard_map):
    user = create(service, region="EUROPE")
    assert ids.decode(user.id).shard_number == 2
    assert shard_map.for_id(user.id).name == "eu"
    assert list(store.users["eu"]) == [user.id]
    assert store.users["na"] == store.users["apac"] == {}
    assert store.directory[shard_map.for_key("ada@example.com").name] == {"ada@example.com": user.id}


@pytest.mark.parametrize("region, shard", [("SOUTH_AMERICA", "na"), ("AFRICA", "eu"), ("OCEANIA", "apac")])
def test_each_region_lands_on_its_shard(service, store, region, shard):
    user = create(service, region=region)
    assert (user.region, list(store.users[shard])) == (region, [user.id])


def test_create_normalises(service):
    user = create(service, full_name="  Ada Lovelace ", email="  Ada@Example.COM\t", role="",
                  profile={**empty_profile(), "bio": "  Analyst  "})
    assert (user.full_name, user.email, user.role, user.profile.bio) == (
        "Ada Lovelace", "ada@example.com", "STUDENT", "Analyst")


def test_password_is_hashed_and_sso_users_have_none(service, store):
    with_password = create(service, password="correct horse")
    sso = create(service, email="sso@example.com", password="")
    assert (with_password.has_password, store.password_hashes[with_password.id]) == (True, "fake$correct horse")
    assert (sso.has_password, store.password_hashes[sso.id]) == (False, None)


@pytest.mark.parametrize("overrides, field, fragment", [
    ({"full_name": "   "}, "user.full_name", "must not be blank"),
    ({"full_name": "x" * 201}, "user.full_name", "at most 200 characters"),
    ({"email": "not-an-email"}, "user.email", "is not an email address"),
    ({"email": "ada@@example.com"}, "user.email", "malformed local part"),
    ({"email": "ada@example"}, "user.email", "malformed domain"),
    ({"email": "   "}, "user.email", "is required"),
    ({"region": ""}, "user.region", "is required"),
    ({"region": "REGION_UNSPECIFIED"}, "user.region", "is required"),
    ({"region": "ATLANTIS"}, "user.region", "unknown region 'ATLANTIS'"),
    ({"password": "1234567"}, "password", "at least 8 characters"),
    ({"role": "SUPERUSER"}, "user.role", "unknown role"),
    ({"profile": {**empty_profile(), "website_url": "javascript:alert(1)"}}, "user.profile.website_url",
     "http(s) URL"),
    ({"request_id": "r" * 129}, "request_id", "at most 128 characters"),
])
def test_create_rejects(service, store, overrides, field, fragment):
    with pytest.raises(InvalidArgument) as err:
        create(service, **overrides)
    assert violations(err) == [field]
    assert fragment in err.value.violations[0].description
    assert all(rows == {} for rows in store.users.values())


def test_create_reports_every_violation_at_once(service, store):
    with pytest.raises(InvalidArgument) as err:
        create(service, full_name="", email="not-an-email", region="", password="short")
    assert violations(err) == ["user.full_name", "user.email", "user.region", "password"]
    assert all(rows == {} for rows in store.users.values())


def test_duplicate_email_in_another_region(service, store):
    first = create(service, region="EUROPE")
    with pytest.raises(AlreadyExists) as err:
        create(service, email="ADA@example.com ", region="ASIA")
    assert (err.value.field, err.value.metadata) == ("email", {"resource": "user", "field": "email"})
    assert (list(store.users["eu"]), store.users["apac"]) == ([first.id], {})


def test_same_request_id_replays(service, store):
    first = create(service, request_id="req-1", password="secret-123")
    again = create(service, request_id="req-1", password="secret-123")
    assert again == first
    assert sum(len(rows) for rows in store.users.values()) == 1


def test_request_id_reused_with_other_parameters(service, store):
    create(service, request_id="req-1")
    with pytest.raises(InvalidArgument) as err:
        create(service, request_id="req-1", full_name="Someone Else", email="else@example.com")
    assert violations(err) == ["request_id"]
    assert err.value.reason == "REQUEST_ID_REUSED"


def test_get_user(service):
    user = create(service)
    assert service.get_user(user.id) == user


def test_get_missing_user(service):
    missing = ids.encode(ids.EPOCH_MS + 5, 2, 1)
    with pytest.raises(NotFound, match=f"user {missing} not found"):
        service.get_user(missing)


@pytest.mark.parametrize("bad_id", [0, -1, ids.encode(ids.EPOCH_MS + 5, 9, 1)])
def test_get_malformed_id(service, bad_id):
    with pytest.raises(InvalidArgument) as err:
        service.get_user(bad_id)
    assert violations(err) == ["id"]


def test_get_by_email(service):
    user = create(service, region="OCEANIA")
    assert service.get_user_by_email("  ADA@Example.com ").id == user.id


def test_get_by_unknown_email(service):
    create(service)
    with pytest.raises(NotFound, match="user bob@example.com not found"):
        service.get_user_by_email("bob@example.com")


def test_get_by_malformed_email(service):
    with pytest.raises(InvalidArgument) as err:
        service.get_user_by_email("not-an-email")
    assert violations(err) == ["email"]
