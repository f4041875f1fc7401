"""Overload: a sign-up storm of 500 concurrent CreateUser callers with a 2 s deadline, 15 times the workers of
a server, two rounds, against the users service and through the gateway (a create is a cross-shard commit,
so the service cannot serve them all in time). The excess is answered RESOURCE_EXHAUSTED with a retry
delay instead of waiting out its deadline, the calls let in are served, health answers SERVING throughout
and memory stays bounded.

Latencies are printed, not asserted (speed is for benchmarks): on a shared 2-core machine they measure the
CPU the client and the server's one polling thread get as much as the server. That a rejection never waits
for a worker is asserted exactly in tests/unit/test_shedding.py."""
from __future__ import annotations

import uuid
from collections import Counter

import grpc
import pytest

from elearning.users.v1 import users_service_pb2 as pb
from tests.e2e.storm import p95, rss_kb, storm, summary
from tests.integration.users_client import new_user

pytestmark = pytest.mark.slow

USERS = "elearning.users.v1.UserService"
CREATE_USER = f"/{USERS}/CreateUser"
CALLERS = 500
ROUNDS = 2
DEADLINE_S = 2.0
RSS_GROWTH_LIMIT_KB = 64 * 1024
OK, SHED, LATE = grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.DEADLINE_EXCEEDED


def sign_up() -> bytes:
    return pb.CreateUserRequest(user=new_user("EUROPE", full_name="Storm"), request_id=uuid.uuid4().hex
                                ).SerializeToString()


@pytest.mark.parametrize("via", ["users", "gateway"])
def test_excess_calls_are_shed_at_once_while_health_stays_serving(cluster, via):
    address = cluster.gateway if via == "gateway" else cluster.service("users")
    pid = cluster.cluster.processes.worker(via)  # the server itself, not its supervisor
    users_pid = cluster.cluster.processes.worker("users")
    before_kb, users_before_kb = rss_kb(pid), rss_kb(users_pid)

    outcomes, seen = storm(address, CREATE_USER, sign_up, callers=CALLERS, rounds=ROUNDS, deadline_s=DEADLINE_S,
                           health_service=USERS, pid=pid, tls=cluster.tls)

    after_kb = max(seen.rss_kb + [rss_kb(pid)])
    codes = Counter(o.code for o in outcomes)
    shed = [o for o in outcomes if o.code is SHED]
    shed_p95 = p95([o.seconds for o in shed]) if shed else float("nan")
    print(f"\noverload via {via}: {summary(outcomes)}; shed p95 / deadline {shed_p95 / DEADLINE_S:.2f}; "
          f"health {dict(Counter(seen.health))}; client lag {seen.client_lag_s:.2f} s; "
          f"RSS {before_kb} -> {after_kb} kB "
          f"(users {users_before_kb} -> {rss_kb(users_pid)} kB)")
    assert set(codes) <= {OK, SHED, LATE}, codes
    assert codes[OK] > 0 and shed, codes
    assert all(o.reason == "OVERLOADED" and o.retry_delay_s and o.retry_delay_s > 0 for o in shed)
    assert after_kb - before_kb < RSS_GROWTH_LIMIT_KB
    assert rss_kb(users_pid) - users_before_kb < RSS_GROWTH_LIMIT_KB
    if seen.client_lag_s > DEADLINE_S / 2:
        pytest.skip(f"the test's own client was starved of CPU for {seen.client_lag_s:.1f} s: its calls expired "
                    "in the client, and health probes with them")
    assert codes[LATE] < len(shed), codes  # the unserved are told at once, most of them, not left to time out
    assert seen.health and set(seen.health) == {"SERVING"}, Counter(seen.health)
