"""`elearn health` on the session cluster: all green, from the data folder or from $ELEARN_CONFIG alone, and red
with a line naming the replica while one is stopped."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import grpc

from elearning.common.v1 import common_pb2
from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.courses.v1 import courses_service_pb2_grpc as courses_grpc
from elearning.enrollments.v1 import enrollments_service_pb2 as enrollments_pb
from elearning.enrollments.v1 import enrollments_service_pb2_grpc as enrollments_grpc
from elearning.payments.v1 import payments_service_pb2 as payments_pb
from elearning.payments.v1 import payments_service_pb2_grpc as payments_grpc
from elearning.users.v1 import users_service_pb2 as users_pb
from elearning.users.v1 import users_service_pb2_grpc as users_grpc
from launcher.components import SERVICES
from shared import ids
from tests.channels import open_channel

SHARDS = ("na", "eu", "apac")


def run_health(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "launcher.cli", "health", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_every_part_is_checked_and_healthy(cluster):
    result = run_health("--data-dir", str(cluster.layout.data_dir), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    checks = {c["component"]: c for c in report["checks"]}
    expected = {c.name for c in SERVICES} | {f"gateway {c.name}" for c in SERVICES} | {"gateway"}
    expected |= {f"{c.name}-{i + 1}" for c in SERVICES for i in range(1, cluster.layout.instances)}
    expected |= {f"postgres {s} {r}" for s in SHARDS for r in ("primary", "replica")} | {f"mongo {s}" for s in SHARDS}
    expected |= {f"patroni {s}" for s in SHARDS}
    assert set(checks) == expected
    assert report["healthy"] and all(c["healthy"] for c in checks.values())
    assert checks["users"]["address"] == cluster.service("users")
    assert checks["users-2"]["address"] == cluster.service("users", 1)
    assert "elearning.users.v1.UserService: SERVING" in checks["gateway users"]["detail"]
    for shard in SHARDS:
        assert checks[f"postgres {shard} primary"]["role"] == "primary"
        replica = checks[f"postgres {shard} replica"]
        assert replica["role"] == "replica" and replica["receiving"] and replica["lag_bytes"] >= 0
        assert "leader running" in checks[f"patroni {shard}"]["detail"]
        assert "sync_standby streaming" in checks[f"patroni {shard}"]["detail"]


def test_the_topology_alone_is_enough(cluster):
    env = {**os.environ, "ELEARN_CONFIG": str(cluster.layout.topology_file)}
    env.pop("ELEARN_DATA_DIR", None)
    result = run_health(env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    checks = 23 + len(SERVICES) * (cluster.layout.instances - 1)  # each instance of a service is checked
    assert result.stdout.splitlines()[-1] == f"elearn health: all {checks} checks healthy"


def _green_within(cluster, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if run_health("--data-dir", str(cluster.layout.data_dir)).returncode == 0:
            return True
        time.sleep(0.5)
    return False


def _read_from_each_service_until_it_answers(cluster, shard_number: int, region: int) -> None:
    """One read per PostgreSQL-backed service on the restarted replica's shard, repeated until it succeeds.

    A service's pool still holds connections to the replica from before it stopped; the first read on one
    fails (UNAVAILABLE) and makes the pool drop them all. Doing that here keeps later tests from meeting it.
    """
    someone = ids.encode(int(time.time() * 1000), shard_number, 0)
    reads = {
        "users": lambda ch: users_grpc.UserServiceStub(ch).ListUsers(
            users_pb.ListUsersRequest(region=region, page_size=1), timeout=5),
        "courses": lambda ch: courses_grpc.CourseServiceStub(ch).ListCourses(
            courses_pb.ListCoursesRequest(region=region, page_size=1), timeout=5),
        "enrollments": lambda ch: enrollments_grpc.EnrollmentServiceStub(ch).ListEnrollments(
            enrollments_pb.ListEnrollmentsRequest(student_id=someone, page_size=1), timeout=5),
        "payments": lambda ch: payments_grpc.PaymentServiceStub(ch).ListPaymentMethods(
            payments_pb.ListPaymentMethodsRequest(user_id=someone, page_size=1), timeout=5),
    }
    for name, read in reads.items():
        with open_channel(cluster, cluster.service(name)) as channel:
            for attempt in range(10):
                try:
                    read(channel)
                    break
                except grpc.RpcError as exc:
                    assert exc.code() == grpc.StatusCode.UNAVAILABLE and attempt < 9, (name, exc.details())
                    time.sleep(0.2)


def test_a_stopped_replica_turns_it_red_with_a_clear_line(cluster):
    node = cluster.cluster.stop_node("eu", "replica")
    try:
        result = run_health("--data-dir", str(cluster.layout.data_dir))
        assert result.returncode == 1
        lines = {line.split("  ")[0]: line for line in result.stdout.splitlines()}
        assert "UNHEALTHY" in lines["postgres eu replica"] and "unreachable" in lines["postgres eu replica"]
        assert "UNHEALTHY" not in lines["postgres eu primary"] and "UNHEALTHY" not in lines["users"]
        assert "UNHEALTHY" in lines["patroni eu"] and "no streaming synchronous standby" in lines["patroni eu"]
        checks = 23 + len(SERVICES) * (cluster.layout.instances - 1)
        assert result.stdout.splitlines()[-1] == (f"elearn health: 2 of {checks} checks unhealthy: postgres eu "
                                                  "replica, patroni eu")
    finally:
        cluster.cluster.start_node("eu", node)
        _read_from_each_service_until_it_answers(cluster, 2, common_pb2.REGION_EUROPE)
    assert _green_within(cluster, 30), run_health("--data-dir", str(cluster.layout.data_dir)).stdout
