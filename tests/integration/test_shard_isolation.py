"""A stalled shard on the real cluster: eu's primary frozen (SIGSTOP of its postmaster and every backend) while
many callers write to eu and a few to na and apac through the users and the payments service. na and apac lose
no call, eu's calls fail within their deadline, each service's health names eu NOT_SERVING (`<service>/shard/eu`)
while it stays SERVING overall, and eu writes again once its primary is thawed. And a commit
waiting for a frozen synchronous standby ends within its deadline as COMMIT_UNCONFIRMED."""
from __future__ import annotations

import os
import pathlib
import signal
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import grpc
import pytest

from elearning.payments.v1.payments_service_pb2 import AddPaymentMethodRequest
from elearning.users.v1 import users_service_pb2 as pb
from launcher import postgres
from launcher.processes import health_status
from shared.shard_health import shard_health_name
from tests.channels import open_channel
from tests.integration.payments_client import card_message
from tests.integration.payments_client import stub as payments_stub
from tests.integration.test_failover import email_kept_off, whole_again
from tests.integration.users_client import error_info, new_user, stub, unique_email

pytestmark = pytest.mark.slow

DEADLINE_S = 3.0
STALL_S = 8.0  # below Patroni's 20 s ttl, so the frozen leader is not failed over meanwhile
EU_CALLERS = 40  # more than a service's 32 worker threads
EU_PAYMENT_CALLERS = 16  # more than a shard's 12 calls in flight: enough to stall payments' eu bulkhead too
SHED_SHARE = 0.05  # of another shard's calls during the stall: at most these may be shed (see below)
SLACK_S = 0.5  # what a reply may take past its deadline to travel back
RECOVERY_S = 20.0  # below Patroni's ttl: the thawed leader keeps its role and must serve again well before
HEALTH = {"users": "elearning.users.v1.UserService", "payments": "elearning.payments.v1.PaymentService"}


@dataclass
class Calls:
    """Every call one group of threads made: (start, seconds taken, status code name or "OK")."""

    made: list[tuple[float, float, str]] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # each failure's message, in order

    def during(self, since: float, until: float) -> list[tuple[float, float, str]]:
        return [call for call in self.made if since <= call[0] < until]

    def failed(self, since: float, until: float) -> list[tuple[float, float, str]]:
        return [call for call in self.during(since, until) if call[2] != "OK"]


def _loop(call, calls: Calls, stop: threading.Event) -> None:
    while not stop.is_set():
        began = time.monotonic()
        try:
            call()
            code = "OK"
        except grpc.RpcError as exc:
            code = exc.code().name
            calls.details.append(exc.details() or "")
        calls.made.append((began, time.monotonic() - began, code))
        if code != "OK":
            time.sleep(0.02)


def _server_pids(cluster, shard: str, node: str | None = None) -> list[int]:
    """The postmaster of a node (default: the shard's primary) and all its children (backends, walsender...)."""
    node_dir = cluster.layout.node_dir(shard, node or cluster.layout.primary_node(shard))
    postmaster = postgres.postmaster_pid(node_dir)
    assert postmaster, f"the {shard} node is not running"
    children = []
    for entry in pathlib.Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                children.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return [postmaster, *children]


def _signal(pids: list[int], signum: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def _first_ok_after(calls: Calls, moment: float) -> float | None:
    """When the first call that began after `moment` and succeeded began, or None."""
    return min((start for start, _t, code in calls.made if start > moment and code == "OK"), default=None)


def _codes(*groups: Calls, since: float, until: float) -> list[dict[str, int]]:
    return [dict(Counter(code for _s, _t, code in calls.during(since, until))) for calls in groups]


def _health_during(address: str, service: str, tls) -> dict[str, str]:
    """The overall and per-shard health one instance reports now."""
    names = {"overall": service, **{shard: shard_health_name(service, shard) for shard in ("na", "eu", "apac")}}
    return {key: health_status(address, name, tls=tls) for key, name in names.items()}


def test_a_stalled_shard_fails_its_own_calls_fast_and_no_other_shards(cluster):
    whole_again(cluster, "eu")
    channel = open_channel(cluster, cluster.service("users"))
    pay_channel = open_channel(cluster, cluster.service("payments"))
    users, payments = stub(channel), payments_stub(pay_channel)
    owners = {region: users.CreateUser(pb.CreateUserRequest(user=new_user(region, email=email_kept_off("eu"))),
                                       timeout=10).id for region in ("EUROPE", "NORTH_AMERICA", "ASIA")}

    def create(region: str):
        def call():
            email = unique_email() if region == "EUROPE" else email_kept_off("eu")
            users.CreateUser(pb.CreateUserRequest(user=new_user(region, email=email)), timeout=DEADLINE_S)
        return call

    def add_card(region: str):
        def call():
            payments.AddPaymentMethod(AddPaymentMethodRequest(payment_method=card_message(owners[region]),
                                                              token="tok_visa_ok"), timeout=DEADLINE_S)
        return call

    groups = {"eu": (Calls(), create("EUROPE"), EU_CALLERS), "na": (Calls(), create("NORTH_AMERICA"), 2),
              "apac": (Calls(), create("ASIA"), 2),
              "eu payments": (Calls(), add_card("EUROPE"), EU_PAYMENT_CALLERS),
              "na payments": (Calls(), add_card("NORTH_AMERICA"), 2),
              "apac payments": (Calls(), add_card("ASIA"), 2)}
    stop = threading.Event()
    threads = [threading.Thread(target=_loop, args=(lambda c=call: c(), calls, stop), daemon=True)
               for calls, call, count in groups.values() for _ in range(count)]
    for thread in threads:
        thread.start()
    pids: list[int] = []
    health: dict[str, list[dict[str, str]]] = {"users": [], "payments": []}  # sampled through the stall
    try:
        time.sleep(1.0)
        pids = _server_pids(cluster, "eu")
        _signal(pids, signal.SIGSTOP)
        stalled = time.monotonic()
        time.sleep(1.0)
        while time.monotonic() < stalled + STALL_S - 0.5:
            for service, samples in health.items():
                samples.append(_health_during(cluster.service(service), HEALTH[service], cluster.tls))
            time.sleep(0.3)
    finally:
        _signal(pids, signal.SIGCONT)
        thawed = time.monotonic()
    try:
        # Until both services have written to eu again (a few seconds: the thawed node first works through
        # the connection attempts queued while it was frozen), or RECOVERY_S.
        while time.monotonic() < thawed + RECOVERY_S and not all(
                _first_ok_after(groups[name][0], thawed) for name in ("eu", "eu payments")):
            time.sleep(0.2)
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(DEADLINE_S + 5)
        channel.close()
        pay_channel.close()
    whole_again(cluster, "eu")
    print("\nhealth during the stall: " + "; ".join(
        f"{service}: eu NOT_SERVING in {sum(h['eu'] == 'NOT_SERVING' for h in samples)} of {len(samples)} samples"
        for service, samples in health.items()))
    for service, samples in health.items():
        assert samples and any(h["eu"] == "NOT_SERVING" for h in samples), (service, samples)
        assert all(h["overall"] == h["na"] == h["apac"] == "SERVING" for h in samples), (service, samples)
    for prefix in ("", " payments"):
        eu, na, apac = (groups[name + prefix][0] for name in ("eu", "na", "apac"))
        eu_stalled = eu.during(stalled, thawed)
        slowest = max((taken for _start, taken, _code in eu_stalled), default=0.0)
        print(f"stalled eu {STALL_S:.0f} s{prefix}: eu {len(eu_stalled)} calls, "
              f"{len(eu.failed(stalled, thawed))} failed, slowest {slowest:.2f} s; "
              f"na {len(na.during(stalled, thawed))} "
              f"calls, {len(na.failed(stalled, thawed))} failed; apac {len(apac.during(stalled, thawed))} calls, "
              f"{len(apac.failed(stalled, thawed))} failed; codes {_codes(eu, na, apac, since=stalled, until=thawed)}")
        for name, calls in (("na", na), ("apac", apac)):
            during = calls.during(stalled, thawed)
            assert during, f"no {name}{prefix} call ran during the stall"
            # The eu callers (40) outnumber the service's workers (32): now and then the whole process is over
            # its bound and sheds a call of any shard, answered at once RESOURCE_EXHAUSTED with a retry delay
            # (seen in 1 of 3 fresh-clone runs: 2 of 113 na calls, 1 of 116 apac). That is the overload answer a
            # client retries, not a shard's failure: never another code, and never more than a few calls.
            failed = calls.failed(stalled, thawed)
            assert [c for c in failed if c[2] != "RESOURCE_EXHAUSTED"] == [], (name + prefix, failed[:5])
            assert len(failed) <= SHED_SHARE * len(during), (name + prefix, len(failed), len(during))
            # As the thawed node works through its backlog, every eu caller rushes back at once: a call of
            # another shard may then be shed (RESOURCE_EXHAUSTED, with a retry delay: the server's overload
            # answer), never fail otherwise.
            after = [c for c in calls.failed(thawed, thawed + DEADLINE_S) if c[2] != "RESOURCE_EXHAUSTED"]
            assert after == [], (name + prefix, after[:5])
        assert eu_stalled and slowest < DEADLINE_S + SLACK_S, f"an eu{prefix} call took {slowest:.2f} s"
        recovered = _first_ok_after(eu, thawed)
        print(f"eu{prefix} wrote again {recovered - thawed if recovered else float('nan'):.2f} s after the thaw")
        assert recovered is not None, (f"eu{prefix} writes did not recover after the thaw", eu.details[-3:])
        assert [code for _s, _t, code in eu.during(recovered, time.monotonic())][-1:] == ["OK"], eu.details[-3:]


def test_a_commit_waiting_for_a_frozen_standby_is_cancelled_within_its_deadline(cluster):
    """PostgreSQL ignores statement_timeout while a COMMIT waits for the synchronous standby: with the standby
    frozen (still connected, so it stays in the synchronous set) the watchdog cancels the wait before the
    call's deadline and the call answers COMMIT_UNCONFIRMED; a retry with the same request_id settles it."""
    whole_again(cluster, "eu")
    channel = open_channel(cluster, cluster.service("users"))
    users = stub(channel)
    requests = [pb.CreateUserRequest(user=new_user("EUROPE", email=email_kept_off("eu")),
                                     request_id=str(uuid.uuid4())) for _ in range(4)]
    outcomes = []
    pids = _server_pids(cluster, "eu", cluster.layout.node("eu", "replica"))
    try:
        _signal(pids, signal.SIGSTOP)
        for request in requests:
            began = time.monotonic()
            with pytest.raises(grpc.RpcError) as failed:
                users.CreateUser(request, timeout=DEADLINE_S)
            info = error_info(failed.value)
            outcomes.append((time.monotonic() - began, failed.value.code().name, info.reason if info else None))
    finally:
        _signal(pids, signal.SIGCONT)
    print(f"\nfrozen standby: {outcomes}")
    whole_again(cluster, "eu")
    assert all(code == "UNAVAILABLE" and reason == "COMMIT_UNCONFIRMED" for _t, code, reason in outcomes), outcomes
    assert max(taken for taken, _c, _r in outcomes) < DEADLINE_S
    settled = [users.CreateUser(request, timeout=10).id for request in requests]
    assert len(set(settled)) == len(requests)
    channel.close()
