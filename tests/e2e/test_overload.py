"""Overload: a sign-up storm of CreateUser callers with a 2 s deadline, ten times the workers of a server, two
rounds, against the users service and through the gateway (a create is a cross-shard commit, so the service
cannot serve them all in time). The excess is answered RESOURCE_EXHAUSTED with a retry delay within the
deadline instead of waiting it out (nearly all of it), the calls let in are served, nothing fails UNKNOWN or
INTERNAL, health answers SERVING throughout and memory stays bounded.

How soon the excess is answered depends on how soon grpcio's one polling thread gets the interpreter lock to
take each call in (shared.cpu_slots); benchmarks/shed_path.py measures the ways of shedding side by side."""
from __future__ import annotations

import os
import uuid
from collections import Counter

import grpc
import pytest

from elearning.users.v1 import users_service_pb2 as pb
from shared.settings import Settings
from tests.e2e.storm import p95, rss_kb, storm, summary
from tests.integration.users_client import new_user

pytestmark = pytest.mark.slow

USERS = "elearning.users.v1.UserService"
CREATE_USER = f"/{USERS}/CreateUser"
CALLERS = 10 * Settings.max_workers
ROUNDS = 2
DEADLINE_S = 2.0
RSS_GROWTH_LIMIT_KB = 64 * 1024
# Of the deadline. On a quiet 2-core machine, with calls also shed when they start late (shared.shedding), four
# storms saw a shed p95 of 0.36-0.59 and no call expired; before that, 0.52 and 0-5 % of the calls expired here,
# and on CI's machine 0.86 and 16 % (users direct, a burst's queue outliving the deadline). Before
# shared.cpu_slots: past the deadline and 40-80 %; before shedding at all, every excess call expired.
SHED_P95_LIMIT = 0.8
LATE_LIMIT = 0.1  # of the calls: those that waited out their deadline
# Past this many runnable threads per core (the 1-minute load average before the storm) what the test can
# time is the CPU the machine gives its client and the server's polling thread, not the server: the timings
# are printed, not asserted (on 2 cores shared by six test runs, at loads of 17-31, the shed p95 was 0.6-0.9
# of the deadline and 0-20 % of the calls expired, 60 % once through the gateway; before shared.cpu_slots
# 0.93-1.35 and 40-80 %).
OVERSUBSCRIBED = 4.0
OK, SHED, LATE = grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.DEADLINE_EXCEEDED
# A shard that could not take or finish the call in time (its bulkhead full, its statement cancelled before
# the deadline): a clear answer too; UNKNOWN or INTERNAL never is.
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE


def sign_up() -> bytes:
    return pb.CreateUserRequest(user=new_user("EUROPE", full_name="Storm"), request_id=uuid.uuid4().hex
                                ).SerializeToString()


@pytest.mark.parametrize("via", ["users", "gateway"])
def test_excess_calls_are_shed_at_once_while_health_stays_serving(cluster, via):
    address = cluster.gateway if via == "gateway" else cluster.service("users")
    pid = cluster.cluster.processes.worker(via)  # the server itself, not its supervisor
    users_pid = cluster.cluster.processes.worker("users")
    before_kb, users_before_kb = rss_kb(pid), rss_kb(users_pid)
    load = os.getloadavg()[0] / (os.cpu_count() or 1)  # what the rest of the machine runs meanwhile

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
    assert set(codes) <= {OK, SHED, LATE, UNAVAILABLE}, codes
    assert codes[OK] > 0 and shed, codes
    assert all(o.reason == "OVERLOADED" and o.retry_delay_s and o.retry_delay_s > 0 for o in shed)
    assert after_kb - before_kb < RSS_GROWTH_LIMIT_KB
    assert rss_kb(users_pid) - users_before_kb < RSS_GROWTH_LIMIT_KB
    if seen.client_lag_s > DEADLINE_S / 2:
        pytest.skip(f"the test's own client was starved of CPU for {seen.client_lag_s:.1f} s: its calls expired "
                    "in the client, and health probes with them")
    assert seen.health and set(seen.health) == {"SERVING"}, Counter(seen.health)
    if load > OVERSUBSCRIBED:
        pytest.skip(f"{load:.1f} runnable threads per core: timings not asserted ({summary(outcomes)})")
    # The unserved are told at once, nearly all of them, not left to time out.
    assert codes[LATE] < LATE_LIMIT * len(outcomes), codes
    assert shed_p95 < SHED_P95_LIMIT * DEADLINE_S, summary(outcomes)
