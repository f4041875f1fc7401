"""A shard's primary killed with SIGKILL under write load, then `elearn failover`, on the real cluster in
synchronous replication: writes to that shard fail UNAVAILABLE within the deadline while other shards and
reads carry on; after the failover writes succeed without restarting a service, and every write
acknowledged before the kill is there. A planned switchover back restores the original roles."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import grpc

from elearning.users.v1 import users_service_pb2 as pb
from launcher import postgres
from shared.settings import load_settings
from tests.integration.users_client import new_user, stub, unique_email

DEADLINE_S = 3.0


SHARD_MAP = load_settings("users", {}).shard_map  # the local topology's shards (names and count)


def email_kept_off(shard: str) -> str:
    """An email whose global directory entry is not on `shard` (creating a user writes that entry too, so
    with `shard`'s primary down a new user of any region whose email hashes there cannot be created)."""
    while True:
        email = unique_email()
        if SHARD_MAP.for_key(email).name != shard:
            return email


def create(channel, region: str, *, avoid: str = "eu") -> pb.User:
    user = new_user(region, email=email_kept_off(avoid) if region not in ("EUROPE", "AFRICA") else None)
    return stub(channel).CreateUser(pb.CreateUserRequest(user=user), timeout=DEADLINE_S)


class Writers:
    """Threads creating users in one region until stopped; the IDs of acknowledged creates."""

    def __init__(self, channel, region: str, threads: int = 3):
        self.channel, self.region = channel, region
        self.acknowledged: list[int] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.acknowledged.append(create(self.channel, self.region).id)
            except grpc.RpcError:
                time.sleep(0.02)

    def __enter__(self) -> "Writers":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def failover(cluster, shard: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "launcher.cli", "failover", "--shard", shard, "--data-dir",
                           str(cluster.layout.data_dir)], capture_output=True, text=True, timeout=180)


def first_write_after(channel, region: str, seconds: float) -> float:
    began = time.monotonic()
    while True:
        try:
            create(channel, region)
            return time.monotonic() - began
        except grpc.RpcError as exc:
            assert time.monotonic() - began < seconds, f"no write within {seconds} s: {exc.code()} {exc.details()}"
            time.sleep(0.05)


def present_on_primary(cluster, shard: str, ids: list[int]) -> set[int]:
    rows = cluster.query(shard, "primary", "SELECT id FROM users WHERE id = ANY(%s)", (ids,))
    return {row[0] for row in rows}


def test_kill_the_primary_then_fail_over_without_losing_an_acknowledged_write(gateway_channel, cluster):
    assert cluster.layout.replication == "sync"
    old_primary = cluster.layout.pg_port("eu", "primary")
    data = cluster.layout.pg_dir("eu", "primary")
    with Writers(gateway_channel, "EUROPE") as eu_writers, Writers(gateway_channel, "NORTH_AMERICA", 1) as na:
        time.sleep(1.0)
        os.kill(postgres.postmaster_pid(data), signal.SIGKILL)
        killed = time.monotonic()
        time.sleep(0.5)
        # Writes to eu fail fast and say why; other shards keep accepting writes; eu reads keep working.
        began = time.monotonic()
        try:
            create(gateway_channel, "EUROPE")
            raise AssertionError("a write to a shard whose primary is dead succeeded")
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc.details()
            assert "shard eu" in exc.details()
        assert time.monotonic() - began < DEADLINE_S
        na_count = len(na.acknowledged)
        assert create(gateway_channel, "ASIA").id
        time.sleep(0.3)
        assert len(na.acknowledged) > na_count
        user, call = stub(gateway_channel).GetUser.with_call(pb.GetUserRequest(id=eu_writers.acknowledged[0]),
                                                             timeout=DEADLINE_S)
        assert user.id and dict(call.trailing_metadata())["x-served-by"] == "eu:replica"
        acknowledged_before = len(eu_writers.acknowledged)

        began = time.monotonic()
        result = failover(cluster, "eu")
        assert result.returncode == 0, result.stdout + result.stderr
        after_command = time.monotonic() - began
        until_write = after_command + first_write_after(gateway_channel, "EUROPE", 10)
    print(f"\nfailover: command {after_command:.2f} s, first write {until_write:.2f} s after it began, "
          f"{time.monotonic() - killed:.2f} s after the kill; {acknowledged_before} writes acknowledged before "
          f"the kill")
    assert cluster.layout.pg_port("eu", "primary") != old_primary
    assert "primary is now" in result.stdout
    acknowledged = eu_writers.acknowledged
    assert len(acknowledged) > acknowledged_before  # the writers resumed on the new primary
    assert present_on_primary(cluster, "eu", acknowledged) == set(acknowledged)
    assert cluster.query("eu", "primary", "SELECT pg_is_in_recovery()") == [(False,)]
    assert cluster.query("eu", "replica", "SELECT pg_is_in_recovery()") == [(True,)]


def test_a_planned_switchover_back_loses_nothing(gateway_channel, cluster):
    before = cluster.layout.primary_node("eu")
    with Writers(gateway_channel, "AFRICA") as writers:
        time.sleep(0.5)
        result = failover(cluster, "eu")
        assert result.returncode == 0, result.stdout + result.stderr
        first_write_after(gateway_channel, "AFRICA", 10)
        time.sleep(0.3)
    assert cluster.layout.primary_node("eu") != before
    assert present_on_primary(cluster, "eu", writers.acknowledged) == set(writers.acknowledged)
    user, call = stub(gateway_channel).GetUser.with_call(pb.GetUserRequest(id=writers.acknowledged[-1]),
                                                         metadata=(("x-consistency", "strong"),), timeout=DEADLINE_S)
    assert user.id == writers.acknowledged[-1]


def test_services_follow_a_replica_promoted_by_hand_and_failover_completes_it(gateway_channel, cluster):
    """The manual procedure (docker-compose's): stop the primary, promote the replica by hand. The services
    move writes to it without a restart; in sync mode its commits wait until it has a standby again, which
    `elearn failover` then builds from the old primary's node, and the waiting write completes."""
    before = create(gateway_channel, "OCEANIA")
    old_primary = cluster.layout.pg_port("apac", "primary")
    postgres.stop(cluster.layout.pg_dir("apac", "primary"))
    cluster.query("apac", "replica", "SELECT pg_promote(true, 30)")
    written = []
    writer = threading.Thread(target=lambda: written.append(first_write_after(gateway_channel, "OCEANIA", 20)))

    def commit_waits_on_promoted_node() -> bool:
        return bool(cluster.query("apac", "replica", "SELECT 1 FROM pg_stat_activity WHERE wait_event = 'SyncRep' "
                                                     "AND application_name = 'elearn-users'"))
    try:
        give_up = time.monotonic() + 5
        writer.start()
        while not commit_waits_on_promoted_node():
            assert time.monotonic() < give_up, "no write reached the promoted node"
            time.sleep(0.05)
    finally:
        result = failover(cluster, "apac")
        writer.join()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "a primary already" in result.stdout
    assert cluster.layout.pg_port("apac", "primary") != old_primary
    assert cluster.query("apac", "replica", "SELECT pg_is_in_recovery()") == [(True,)]
    assert written and present_on_primary(cluster, "apac", [before.id]) == {before.id}
    back = failover(cluster, "apac")  # the shard ends as it began, for the tests that follow
    assert back.returncode == 0, back.stdout + back.stderr
