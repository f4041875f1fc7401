"""A shard's primary restarted in place (Patroni's restart, no failover) while every service holds pooled
connections to it: those died idle, and the calls that follow succeed in every service, none UNAVAILABLE.
Calls go to each service directly: the gateway's retries would hide a failure."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from elearning.common.v1 import common_pb2
from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.courses.v1 import courses_service_pb2_grpc as courses_grpc
from elearning.enrollments.v1 import enrollments_service_pb2 as enrollments_pb
from elearning.enrollments.v1 import enrollments_service_pb2_grpc as enrollments_grpc
from elearning.payments.v1 import payments_service_pb2 as payments_pb
from elearning.payments.v1 import payments_service_pb2_grpc as payments_grpc
from elearning.users.v1 import users_service_pb2 as users_pb
from elearning.users.v1 import users_service_pb2_grpc as users_grpc
from launcher import patroni, postgres
from shared import ids
from tests.channels import open_channel
from tests.integration.users_client import new_user

STRONG = (("x-consistency", "strong"),)  # served by the primary, through each service's primary pool
CALLERS = 12


def calls(channels: dict) -> dict:
    someone = ids.encode(int(time.time() * 1000), 2, 0)  # an ID on eu (shard number 2)
    return {
        "users write": lambda: users_grpc.UserServiceStub(channels["users"]).CreateUser(
            users_pb.CreateUserRequest(user=new_user("EUROPE")), timeout=5),
        "users": lambda: users_grpc.UserServiceStub(channels["users"]).ListUsers(
            users_pb.ListUsersRequest(region=common_pb2.REGION_EUROPE, page_size=1), metadata=STRONG, timeout=5),
        "courses": lambda: courses_grpc.CourseServiceStub(channels["courses"]).ListCourses(
            courses_pb.ListCoursesRequest(region=common_pb2.REGION_EUROPE, page_size=1), metadata=STRONG, timeout=5),
        "enrollments": lambda: enrollments_grpc.EnrollmentServiceStub(channels["enrollments"]).ListEnrollments(
            enrollments_pb.ListEnrollmentsRequest(student_id=someone, page_size=1), metadata=STRONG, timeout=5),
        "payments": lambda: payments_grpc.PaymentServiceStub(channels["payments"]).ListPaymentMethods(
            payments_pb.ListPaymentMethodsRequest(user_id=someone, page_size=1), metadata=STRONG, timeout=5),
    }


def failures(channels: dict, rounds: int) -> list[str]:
    """`rounds` of every call from CALLERS threads at once; the failures as "call: CODE details"."""
    table = calls(channels)

    def one(name: str) -> str | None:
        try:
            table[name]()
        except grpc.RpcError as exc:
            return f"{name}: {exc.code().name} {exc.details()}"
        return None

    with ThreadPoolExecutor(CALLERS) as pool:
        found = pool.map(one, [name for _ in range(rounds) for name in table for _ in range(CALLERS)])
        return [failure for failure in found if failure]


@pytest.mark.slow
def test_calls_after_a_primary_restart_all_succeed(cluster):
    channels = {name: open_channel(cluster, cluster.service(name))
                for name in ("users", "courses", "enrollments", "payments")}
    try:
        _restart_the_eu_primary_between_calls(cluster, channels)
    finally:
        for channel in channels.values():
            channel.close()


def _restart_the_eu_primary_between_calls(cluster, channels: dict) -> None:
    cluster.cluster.nodes.wait_ready("eu")
    assert failures(channels, 2) == []  # every pool holds connections to the eu primary now
    node = cluster.layout.primary_node("eu")
    data = cluster.layout.node_dir("eu", node)
    before = postgres.postmaster_pid(data)
    patroni.request([cluster.layout.rest_port("eu", node)], "/restart", {})
    give_up = time.monotonic() + 60
    while patroni.leader(cluster.cluster.nodes.view("eu")) is None or postgres.postmaster_pid(data) in (None, before):
        assert time.monotonic() < give_up, "the eu primary did not come back"
        time.sleep(0.2)
    cluster.cluster.nodes.wait_ready("eu")
    time.sleep(1.5)  # the services' monitors (every 0.5 s) have seen it back
    assert cluster.layout.primary_node("eu") == node  # restarted in place, not failed over
    assert failures(channels, 3) == []
