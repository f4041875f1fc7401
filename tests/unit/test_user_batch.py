"""BatchCreateUsers over the in-memory store: each home shard's part written once, a taken email refused per
item, a replay of the request_id answering the stored results without writing again."""
from __future__ import annotations

import pytest

from services.users.domain import NewUserRequest
from shared.errors import AlreadyExists, InvalidArgument
from tests.unit.fakes import empty_profile


def item(email: str, region: str = "EUROPE") -> NewUserRequest:
    return NewUserRequest("Ada Lovelace", email, region, "STUDENT", empty_profile(), "")


def test_a_batch_creates_each_free_email_on_its_home_shard_and_refuses_a_taken_one(service, store):
    taken = service.create_user("Grace Hopper", "grace@example.com", "NORTH_AMERICA", "STUDENT", empty_profile(),
                                "", "")
    items = [item("ada@example.com"), item("grace@example.com", "ASIA"), item("alan@example.com", "NORTH_AMERICA")]
    outcomes = service.batch_create_users(items, "batch-1")
    assert [o.index for o in outcomes] == [0, 1, 2]
    assert outcomes[0].user.id in store.users["eu"] and outcomes[2].user.id in store.users["na"]
    assert isinstance(outcomes[1].error, AlreadyExists) and store.lookup_email(
        store.shard_map.for_key(taken.email).name, taken.email) == taken.id
    again = service.batch_create_users(items, "batch-1")
    assert [o.user for o in again] == [o.user for o in outcomes]
    assert sum(len(rows) for rows in store.users.values()) == 3
    with pytest.raises(InvalidArgument) as caught:
        service.batch_create_users(items[:1], "batch-1")
    assert caught.value.reason == "REQUEST_ID_REUSED"
