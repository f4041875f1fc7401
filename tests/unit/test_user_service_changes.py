"""services.users.service: listing, updating and deleting users."""
import pytest

from services.users.service import UPDATABLE
from shared import field_masks, ids
from shared.errors import AlreadyExists, InvalidArgument, NotFound
from tests.unit.fakes import empty_profile
from tests.unit.helpers import create, update, violations


@pytest.fixture
def europeans(service):
    """Five EUROPE users, plus neighbours on the same shard (AFRICA) and on another (ASIA)."""
    people = [create(service, email=f"eu{i}@example.com", region="EUROPE") for i in range(5)]
    create(service, email="af@example.com", region="AFRICA")
    create(service, email="as@example.com", region="ASIA")
    return people


def pages(service, region, size):
    token, seen = "", []
    while True:
        users, token = service.list_users(region, size, token)
        seen.append([u.id for u in users])
        if not token:
            return seen


def test_pages_of_two(service, europeans):
    result = pages(service, "EUROPE", 2)
    assert [len(p) for p in result] == [2, 2, 1]
    assert [i for p in result for i in p] == sorted(u.id for u in europeans)


def test_exact_multiple_has_no_empty_last_page(service, europeans):
    create(service, email="eu5@example.com", region="EUROPE")
    assert [len(p) for p in pages(service, "EUROPE", 3)] == [3, 3]


def test_default_page_size_returns_everything(service, europeans):
    users, token = service.list_users("EUROPE", 0, "")
    assert (len(users), token) == (5, "")


def test_token_reused_with_another_region(service, europeans):
    _, token = service.list_users("EUROPE", 2, "")
    with pytest.raises(InvalidArgument) as err:
        service.list_users("AFRICA", 2, token)
    assert violations(err) == ["page_token"]


@pytest.mark.parametrize("region, size, field", [("", 2, "region"), ("EUROPE", -1, "page_size")])
def test_list_rejects(service, region, size, field):
    with pytest.raises(InvalidArgument) as err:
        service.list_users(region, size, "")
    assert violations(err) == [field]


def test_update_full_name(service):
    user = create(service)
    updated = update(service, user.id, {"full_name"}, full_name=" Ada King ")
    assert (updated.full_name, updated.email, updated.role) == ("Ada King", "ada@example.com", "STUDENT")
    assert updated.updated_at > user.updated_at
    assert service.get_user(user.id).full_name == "Ada King"


def test_update_email_moves_the_directory_entry(service):
    user = create(service)
    update(service, user.id, {"email"}, email=" Countess@Example.com")
    assert service.get_user_by_email("countess@example.com").id == user.id
    with pytest.raises(NotFound):
        service.get_user_by_email("ada@example.com")


def test_update_email_to_a_taken_one(service):
    user = create(service)
    create(service, email="taken@example.com", region="ASIA")
    with pytest.raises(AlreadyExists):
        update(service, user.id, {"email"}, email="taken@example.com")
    assert service.get_user(user.id).email == "ada@example.com"


def test_update_profile_bio_only(service):
    user = create(service, profile={**empty_profile(), "headline": "Analyst", "bio": "old"})
    updated = update(service, user.id, {"profile.bio"}, profile={**empty_profile(), "bio": "new"})
    assert (updated.profile.bio, updated.profile.headline) == ("new", "Analyst")


def test_update_whole_profile(service):
    user = create(service, profile={**empty_profile(), "headline": "Analyst"})
    updated = update(service, user.id, {"profile"}, profile={**empty_profile(), "bio": "new"})
    assert (updated.profile.bio, updated.profile.headline) == ("new", "")


def test_update_password(service, store):
    user = create(service)
    assert update(service, user.id, {"password"}, password="long enough").has_password
    assert store.password_hashes[user.id] == "fake$long enough"


@pytest.mark.parametrize("password", ["", "short"])
def test_update_password_needs_eight_characters(service, store, password):
    user = create(service)
    with pytest.raises(InvalidArgument) as err:
        update(service, user.id, {"password"}, password=password)
    assert violations(err) == ["password"]
    assert store.password_hashes[user.id] is None


@pytest.mark.parametrize("mask, overrides, field", [
    ({"profile.nickname"}, {}, "update_mask"),
    ({"full_name"}, {"full_name": "  "}, "user.full_name"),
    ({"email"}, {"email": "not-an-email"}, "user.email"),
    ({"role"}, {"role": "ROOT"}, "user.role"),
])
def test_update_rejects(service, mask, overrides, field):
    user = create(service)
    with pytest.raises(InvalidArgument) as err:
        update(service, user.id, mask, **overrides)
    assert violations(err) == [field]
    assert service.get_user(user.id) == user


def test_unknown_mask_path_is_rejected_before_the_service():
    with pytest.raises(InvalidArgument) as err:
        field_masks.resolve(["nickname"], UPDATABLE)
    assert violations(err) == ["update_mask"]


def test_subpath_of_a_scalar_field_is_not_silently_ignored(service):
    user = create(service)
    with pytest.raises(InvalidArgument):
        update(service, user.id, field_masks.resolve(["full_name.first"], UPDATABLE), full_name="Augusta")


@pytest.mark.parametrize("user_id, error", [(0, InvalidArgument), (ids.encode(ids.EPOCH_MS + 1, 2, 1), NotFound)])
def test_update_bad_or_missing_id(service, user_id, error):
    with pytest.raises(error) as err:
        update(service, user_id, {"full_name"}, full_name="X")
    if error is InvalidArgument:
        assert violations(err) == ["user.id"]


def test_delete_then_get(service, store):
    user = create(service)
    service.delete_user(user.id)
    with pytest.raises(NotFound):
        service.get_user(user.id)
    with pytest.raises(NotFound):
        service.get_user_by_email("ada@example.com")
    assert all(d == {} for d in store.directory.values())
    with pytest.raises(NotFound):
        service.delete_user(user.id)


def test_a_deleted_users_email_can_be_reused(service):
    service.delete_user(create(service).id)
    assert create(service, region="ASIA").email == "ada@example.com"
