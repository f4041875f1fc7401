"""Two instances of every service on the real cluster: with steady callers going through the gateway, one
instance killed with SIGKILL costs at most the calls it had in flight, its supervisor starts it again, and
it serves again (shown by then killing the other one: the calls still succeed, so the first carries them)."""
from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import grpc
import pytest

from elearning.users.v1 import users_service_pb2 as pb
from launcher.processes import wait_serving
from tests.integration.test_supervision import BACK_WITHIN_S, worker
from tests.integration.users_client import new_user, stub

pytestmark = pytest.mark.slow

CALLERS = 12  # threads calling through the gateway at once: the most calls one instance can have in flight
HEALTH = "elearning.users.v1.UserService"


class Callers:
    """CALLERS threads creating a user (with a request_id) then reading it back, until stopped."""

    def __init__(self, channel: grpc.Channel):
        self.users = stub(channel)
        self.ok = 0
        self.failures: list[tuple[float, str]] = []
        self.created: list[int] = []
        self.last_ok = time.monotonic()
        self.longest_gap_s = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(CALLERS)]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                made = self.users.CreateUser(pb.CreateUserRequest(user=new_user("EUROPE"),
                                                                  request_id=uuid.uuid4().hex), timeout=5)
                self.users.GetUser(pb.GetUserRequest(id=made.id), timeout=5)
            except grpc.RpcError as exc:
                with self._lock:
                    self.failures.append((time.monotonic(), exc.code().name))
                continue
            with self._lock:
                now = time.monotonic()
                self.longest_gap_s = max(self.longest_gap_s, now - self.last_ok)
                self.last_ok, self.ok = now, self.ok + 1
                self.created.append(made.id)

    def __enter__(self) -> Callers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(15)


def kill_instance(cluster, name: str, address: str) -> float:
    """SIGKILL one instance; wait until its supervisor has it SERVING again; returns the seconds that took."""
    pid = worker(cluster, name)
    assert pid is not None, f"{name} is not running"
    restarts = cluster.cluster.processes.supervision(name)["restarts"]
    killed = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    assert worker(cluster, name, other_than=pid) is not None, f"{name} was not started again"
    assert wait_serving(address, HEALTH, BACK_WITHIN_S, tls=cluster.tls)
    assert cluster.cluster.processes.supervision(name)["restarts"] == restarts + 1
    return time.monotonic() - killed


def test_an_instance_killed_among_two_costs_at_most_its_calls_in_flight(cluster, gateway_channel):
    assert cluster.layout.instances == 2
    names = cluster.cluster.instance_names("users")
    assert names == ["users", "users-2"]
    with Callers(gateway_channel) as callers:
        time.sleep(1.0)
        for round_, (name, index) in enumerate([(names[0], 0), (names[1], 1), (names[0], 0)]):
            before_ok, before_failed = callers.ok, len(callers.failures)
            back_s = kill_instance(cluster, name, cluster.service("users", index))
            time.sleep(1.0)  # calls after the restart: the gateway's channel must use the instance again
            failed = len(callers.failures) - before_failed
            print(f"\nround {round_ + 1}: {name} killed; back in {back_s:.2f} s; {callers.ok - before_ok} calls "
                  f"OK and {failed} failed meanwhile; longest gap without a success {callers.longest_gap_s:.2f} s")
            assert callers.ok > before_ok
            assert failed <= CALLERS, callers.failures[before_failed:]
    rows = {r["component"]: r for r in cluster.cluster.status()}
    assert rows["users"]["state"] == rows["users-2"]["state"] == "running"
    # Every acknowledged user is stored once.
    stored = cluster.query("eu", "primary", "SELECT count(*) FROM users WHERE id = ANY(%s)", (callers.created,))[0][0]
    assert stored == len(set(callers.created)) == len(callers.created)
