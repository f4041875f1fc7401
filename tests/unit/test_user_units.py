"""services.users.service over the in-memory unit of work: the service opens one cross-shard unit on the user's
home shard and names each email's directory shard; a refused step undoes the others; a lost race reruns it all."""
import pytest

from shared.errors import AlreadyExists, NotFound
from tests.unit.helpers import create, update


def test_an_email_change_moves_the_entry_between_the_shards_the_service_names(service, store, units, shard_map):
    user = create(service, email="ada@example.com", region="ASIA")
    update(service, user.id, {"email"}, email="countess@example.com")
    assert store.directory[shard_map.for_key("countess@example.com").name]["countess@example.com"] == user.id
    assert "ada@example.com" not in store.directory[shard_map.for_key("ada@example.com").name]
    assert units.opened[-1] == ("across", "apac")


def test_a_taken_email_undoes_the_other_changes_of_its_update(service, store, units):
    user = create(service)
    create(service, email="taken@example.com", region="ASIA")
    with pytest.raises(AlreadyExists):
        update(service, user.id, {"full_name", "email"}, full_name="Ada King", email="taken@example.com")
    kept = service.get_user(user.id)
    assert (kept.full_name, kept.email) == ("Ada Lovelace", "ada@example.com") and units.rolled_back == 1
    assert service.get_user_by_email("ada@example.com").id == user.id


def test_an_update_that_lost_races_moves_the_entry_once(service, store, units, shard_map):
    user = create(service)
    units.lose_races(2)
    update(service, user.id, {"email"}, email="countess@example.com")
    assert units.opened[-3:] == [("across", "eu")] * 3 and units.rolled_back == 2
    entries = [(email, uid) for rows in store.directory.values() for email, uid in rows.items()]
    assert entries == [("countess@example.com", user.id)]


def test_delete_removes_the_entry_from_the_emails_shard_and_a_missing_user_is_not_found(service, store, shard_map):
    user = create(service, region="AFRICA")
    service.delete_user(user.id)
    assert all(rows == {} for rows in store.directory.values()) and all(rows == {} for rows in store.users.values())
    with pytest.raises(NotFound):
        service.delete_user(user.id)
