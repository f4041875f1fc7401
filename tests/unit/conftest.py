"""Unit fixtures: a trusted caller, the default shard map, and the users service over in-memory fakes."""
from __future__ import annotations

import pytest

from services.users.service import UserService
from shared.auth.caller import Caller, acting_as
from shared.settings import local_topology, parse_shard_map
from shared.sharding import ShardMap
from tests.unit.fake_units import FakeUnitsOfWork
from tests.unit.fakes import FakeHasher, FakeUserStore


@pytest.fixture(autouse=True)
def as_a_trusted_service():
    """Service rules run here as a trusted internal caller; who may call what is tested in the pipeline."""
    with acting_as(Caller.service("unit-tests")):
        yield


@pytest.fixture
def shard_map() -> ShardMap:
    return parse_shard_map(local_topology())


@pytest.fixture
def store(shard_map) -> FakeUserStore:
    return FakeUserStore(shard_map)


@pytest.fixture
def units(store) -> FakeUnitsOfWork:
    return FakeUnitsOfWork(store)


@pytest.fixture
def service(store, shard_map, units) -> UserService:
    return UserService(store, shard_map, FakeHasher(), units=units)
