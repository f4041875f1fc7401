"""Faults of a shard's nodes under write load on the real cluster, where Patroni decides: a killed primary
node (Patroni and postmaster, SIGKILL) is replaced by itself with no acknowledged write lost and no other
shard touched, and comes back as the replica; a killed replica node costs the shard's writes seconds, then
rejoins as the synchronous standby; `elearn switchover` loses nothing. Each test leaves the shard whole."""
from __future__ import annotations

import subprocess
import sys
import time
import uuid

import pytest

from benchmarks.shard_writers import Writers
from elearning.users.v1 import users_service_pb2 as pb
from launcher import patroni
from shared.settings import local_topology, parse_shard_map
from tests.integration.users_client import new_user, stub, unique_email

pytestmark = pytest.mark.slow

DEADLINE_S = 3.0
SHARD_MAP = parse_shard_map(local_topology())  # the local topology's shards (names and count)
HOLD_DEADLINE_S = 10.0  # the gateway's default deadline: a switchover's writes are held within it
SHARD_OF = {"AFRICA": "eu", "NORTH_AMERICA": "na", "ASIA": "apac"}
# eu's writers create AFRICA users: the thousands they make would push other tests' new EUROPE users off the
# first page of a region listing.


def email_kept_off(shard: str) -> str:
    """An email whose global directory entry is not on `shard` (creating a user writes that entry too, so
    with `shard`'s primary down a new user of any region whose email hashes there cannot be created)."""
    while True:
        email = unique_email()
        if SHARD_MAP.for_key(email).name != shard:
            return email


def writers(channel, region: str, threads: int = 3, avoid: str = "eu", deadline_s: float = DEADLINE_S,
            request_ids: bool = False) -> Writers:
    """Users created in `region`; outside eu their directory entries stay off eu too. With `request_ids`, each
    create carries one (so the gateway may retry it: a write cut by the old leader's shutdown is not lost)."""
    def write() -> int:
        email = unique_email() if SHARD_OF[region] == avoid else email_kept_off(avoid)
        request = pb.CreateUserRequest(user=new_user(region, email=email),
                                       request_id=uuid.uuid4().hex if request_ids else "")
        return stub(channel).CreateUser(request, timeout=deadline_s).id
    return Writers(write, threads)


def on_primary(cluster, shard: str, ids: list[int]) -> set[int]:
    rows = cluster.query(shard, "primary", "SELECT id FROM users WHERE id = ANY(%s)", (ids,))
    return {row[0] for row in rows}


def elearn(cluster, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "launcher.cli", *args, "--data-dir", str(cluster.layout.data_dir)],
                          capture_output=True, text=True, timeout=240)


def whole_again(cluster, shard: str, timeout_s: float = 90) -> dict:
    """Patroni's view once the shard has a leader and a streaming synchronous standby (fails otherwise)."""
    return cluster.cluster.nodes.wait_ready(shard, timeout_s)


def test_a_killed_primary_node_is_replaced_by_itself_and_rejoins_as_the_replica(gateway_channel, cluster):
    whole_again(cluster, "eu")
    old = cluster.layout.primary_node("eu")
    with writers(gateway_channel, "AFRICA") as eu, writers(gateway_channel, "NORTH_AMERICA", 1) as na, \
            writers(gateway_channel, "ASIA", 1) as apac:
        time.sleep(1.0)
        assert eu.acknowledged, eu.failures[-3:]
        cluster.cluster.nodes.kill_node("eu", "primary")
        killed = time.monotonic()  # after the signals: finding the node's processes takes a moment
        resumed = eu.wait_for_ack_after(killed, 40)
        time.sleep(0.5)
    print(f"\nprimary node killed: first eu write {resumed or float('nan'):.2f} s after the kill; "
          f"{len(eu.ids)} acknowledged")
    assert resumed is not None and resumed < 30, "eu writes did not resume by themselves within 30 s"
    assert cluster.layout.primary_node("eu") != old
    assert on_primary(cluster, "eu", eu.ids) == set(eu.ids), "an acknowledged write was lost"
    assert na.failures == [] and apac.failures == [], (na.failures[:3], apac.failures[:3])
    assert na.acknowledged and apac.acknowledged
    view = whole_again(cluster, "eu")  # the old node is back, as the synchronous standby, with no command
    assert patroni.sync_standby(view)["name"] == cluster.layout.member("eu", old)
    assert cluster.query("eu", "replica", "SELECT pg_is_in_recovery()") == [(True,)]


def test_a_killed_replica_node_costs_seconds_then_rejoins_as_the_synchronous_standby(gateway_channel, cluster):
    whole_again(cluster, "eu")
    replica = cluster.layout.node("eu", "replica")
    with writers(gateway_channel, "AFRICA") as eu, writers(gateway_channel, "NORTH_AMERICA", 1) as na:
        time.sleep(1.0)
        cluster.cluster.nodes.kill_node("eu", "replica")
        killed = time.monotonic()
        time.sleep(8.0)
        view = whole_again(cluster, "eu")
        time.sleep(0.5)
        stalled = eu.longest_gap(killed)  # up to now: a stall that lasts until the rejoin counts whole
    print(f"\nreplica node killed: longest eu gap {stalled:.2f} s; {len(eu.ids)} acknowledged")
    assert eu.first_ack_after(killed) is not None and stalled < 10, f"eu writes stalled {stalled:.2f} s"
    assert na.failures == [], na.failures[:3]
    assert patroni.sync_standby(view)["name"] == cluster.layout.member("eu", replica)
    assert on_primary(cluster, "eu", eu.ids) == set(eu.ids)


def test_a_switchover_holds_writes_and_refuses_none(gateway_channel, cluster):
    """While the leader moves, eu's writes are held (bounded by their deadline and ELEARN_PRIMARY_HOLD_MS) and
    complete on the new leader: none is refused, none lost, and na's writers are not touched."""
    whole_again(cluster, "eu")
    before = cluster.layout.primary_node("eu")
    with writers(gateway_channel, "AFRICA", threads=6, deadline_s=HOLD_DEADLINE_S, request_ids=True) as eu, \
            writers(gateway_channel, "NORTH_AMERICA", threads=1) as na:
        time.sleep(0.5)
        began = time.monotonic()
        result = elearn(cluster, "switchover", "--shard", "eu")
        assert result.returncode == 0, result.stdout + result.stderr
        eu.wait_for_ack_after(time.monotonic(), 10)
        gap = eu.longest_gap(began)
    hold = max(at - start for start, at, _id in eu.acknowledged if at > began)
    print(f"\nswitchover: {result.stdout.strip().splitlines()[-1]}; longest eu gap {gap:.2f} s, longest held "
          f"write {hold:.2f} s; {len(eu.acknowledged)} acknowledged, {len(eu.failures)} refused")
    assert eu.failures == [] and na.failures == [], (eu.failures, eu.details, na.failures, na.details)
    assert "primary is now" in result.stdout
    assert cluster.layout.primary_node("eu") != before
    assert on_primary(cluster, "eu", eu.ids) == set(eu.ids)
    whole_again(cluster, "eu")
