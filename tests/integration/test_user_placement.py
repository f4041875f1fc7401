"""Where users live: the home shard's primary, its replica through streaming replication, no other shard."""
from __future__ import annotations

import time

import pytest

from elearning.users.v1 import users_service_pb2 as pb
from shared import ids
from tests.integration.users_client import new_user, stub

SHARDS = ("na", "eu", "apac")
EXPECTED = {"NORTH_AMERICA": "na", "SOUTH_AMERICA": "na", "EUROPE": "eu", "AFRICA": "eu", "ASIA": "apac",
            "OCEANIA": "apac"}


def wait_on_replica(cluster, shard: str, user_id: int, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cluster.query(shard, "replica", "SELECT 1 FROM users WHERE id = %s", (user_id,)):
            return True
        time.sleep(0.05)
    return False


def test_a_european_user_is_on_the_eu_primary_and_replica_only(cluster, gateway_channel):
    user = stub(gateway_channel).CreateUser(pb.CreateUserRequest(user=new_user("EUROPE"), password="s3cret-pass"),
                                            timeout=10)
    shard_number = ids.decode(user.id).shard_number
    assert cluster.settings().shard_map.by_name("eu").number == shard_number
    assert cluster.query("eu", "primary", "SELECT email, region FROM users WHERE id = %s", (user.id,)) == [
        (user.email, "EUROPE")]
    assert wait_on_replica(cluster, "eu", user.id), "the user never reached the eu replica"
    for other in ("na", "apac"):
        for role in ("primary", "replica"):
            assert cluster.query(other, role, "SELECT count(*) FROM users WHERE id = %s", (user.id,)) == [(0,)]


@pytest.mark.parametrize("region", sorted(EXPECTED))
def test_every_region_lands_on_its_shard(cluster, gateway_channel, region):
    user = stub(gateway_channel).CreateUser(pb.CreateUserRequest(user=new_user(region)), timeout=10)
    home = EXPECTED[region]
    assert cluster.settings().shard_map.for_id(user.id).name == home
    assert cluster.query(home, "primary", "SELECT region FROM users WHERE id = %s", (user.id,)) == [(region,)]


def test_passwords_are_stored_as_scrypt_hashes_and_never_returned(cluster, gateway_channel):
    user = stub(gateway_channel).CreateUser(pb.CreateUserRequest(user=new_user("ASIA"), password="correct horse"),
                                            timeout=10)
    assert user.has_password
    [(stored,)] = cluster.query("apac", "primary", "SELECT password_hash FROM users WHERE id = %s", (user.id,))
    assert stored.startswith("scrypt$131072$8$1$") and "correct horse" not in stored
    assert "password" not in {f.name for f, _ in user.ListFields()}


def test_sso_user_without_password(cluster, gateway_channel):
    user = stub(gateway_channel).CreateUser(pb.CreateUserRequest(user=new_user("OCEANIA")), timeout=10)
    assert not user.has_password
    assert cluster.query("apac", "primary", "SELECT password_hash FROM users WHERE id = %s", (user.id,)) == [(None,)]


def test_the_email_directory_entry_is_on_the_hash_shard(cluster, gateway_channel):
    user = stub(gateway_channel).CreateUser(pb.CreateUserRequest(user=new_user("AFRICA")), timeout=10)
    directory = cluster.settings().shard_map.for_key(user.email).name
    for shard in SHARDS:
        rows = cluster.query(shard, "primary", "SELECT user_id FROM email_directory WHERE email = %s", (user.email,))
        assert rows == ([(user.id,)] if shard == directory else [])
