"""On the real cluster, a service, the gateway or MongoDB killed with SIGKILL comes back by itself (its
supervisor restarts it) and serves again through the gateway; a deliberate stop is never undone."""
from __future__ import annotations

import os
import signal
import time
import uuid

import grpc
import pytest

from elearning.content.v1 import content_service_pb2 as content_pb
from elearning.enrollments.v1 import enrollments_service_pb2 as pb
from launcher.processes import health_status, wait_for_port, wait_serving
from tests.channels import open_channel
from tests.integration.content_client import create, stub, video_item
from tests.integration.test_enrollments import apac_course, enrollments, student  # noqa: F401

# Generous for the shared 2-core machine, where a service's imports alone can take seconds; it is back in
# about 1-4 s when the machine is quiet (the first backoff is 0.25 s), and the test prints the figure.
BACK_WITHIN_S = 45
GATEWAY_HEALTH = {"enrollments": "elearning.enrollments.v1.EnrollmentService",
                  "content": "elearning.content.v1.ContentService"}

pytestmark = pytest.mark.slow


def worker(cluster, name: str, other_than: int | None = None, timeout_s: float = BACK_WITHIN_S) -> int | None:
    """The PID doing `name`'s work, as the launcher recorded it (its supervisor's child)."""
    give_up = time.monotonic() + timeout_s
    while time.monotonic() < give_up:
        pid = cluster.cluster.processes.worker(name)
        if pid is not None and pid != other_than:
            return pid
        time.sleep(0.05)
    return None


def kill_and_wait_back(cluster, name: str, address: str, health_name: str) -> float:
    """SIGKILL `name`'s process, then wait until a new one is SERVING at `address`; returns the seconds."""
    pid = worker(cluster, name)
    assert pid is not None, f"{name} is not running"
    restarts = cluster.cluster.processes.supervision(name)["restarts"]
    killed = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    new = worker(cluster, name, other_than=pid)
    assert new is not None, f"{name} was not started again"
    assert wait_serving(address, health_name, BACK_WITHIN_S - (time.monotonic() - killed), tls=cluster.tls)
    back_s = time.monotonic() - killed
    print(f"\n{name} killed with SIGKILL: SERVING again after {back_s:.2f} s (pid {pid} -> {new})")
    assert cluster.cluster.processes.supervision(name)["restarts"] == restarts + 1
    return back_s


def enroll_through_gateway(cluster, apac_course, within_s: float = 0.0) -> float:  # noqa: F811
    """Enroll a new student through a fresh gateway channel; returns the seconds until it succeeded.

    With `within_s`, UNAVAILABLE is retried (same request_id, so it is safe) that long: the gateway's channel
    to a restarted backend may still be waiting out gRPC's reconnect backoff (1 s, growing) for a moment."""
    began = time.monotonic()
    with open_channel(cluster, cluster.gateway) as channel:
        learner = student(channel)
        request = pb.EnrollRequest(student_id=learner.id, course_id=apac_course.id, request_id=uuid.uuid4().hex)
        while True:
            try:
                enrollment = enrollments(channel).Enroll(request, timeout=10)
                break
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() - began > within_s:
                    raise
                time.sleep(0.1)
    assert enrollment.student_id == learner.id
    assert cluster.query("eu", "primary", "SELECT count(*) FROM enrollments WHERE student_id = %s",
                         (learner.id,)) == [(1,)]
    return time.monotonic() - began


def test_a_killed_service_comes_back_and_calls_through_the_gateway_succeed(cluster, apac_course):  # noqa: F811
    enroll_through_gateway(cluster, apac_course)
    killed = time.monotonic()
    kill_and_wait_back(cluster, "enrollments", cluster.service("enrollments"), GATEWAY_HEALTH["enrollments"])
    enroll_through_gateway(cluster, apac_course, within_s=BACK_WITHIN_S)
    print(f"first enrollment through the gateway after the kill: {time.monotonic() - killed:.2f} s")
    for _ in range(5):  # and from then on every call succeeds at once
        enroll_through_gateway(cluster, apac_course)


def test_a_killed_gateway_comes_back(cluster, gateway_channel, apac_course):  # noqa: F811
    kill_and_wait_back(cluster, "gateway", cluster.gateway, "")
    enroll_through_gateway(cluster, apac_course)
    # The session's shared channel reconnects by itself; wait for it so later tests start on a ready channel.
    grpc.channel_ready_future(gateway_channel).result(timeout=30)


def test_a_killed_mongodb_comes_back_and_content_serves_again(cluster, content_channel, courses):  # noqa: F811
    content = stub(content_channel)
    item = create(content_channel, video_item(courses["ASIA"].id, title="Outlives its MongoDB"))
    pid = worker(cluster, "mongo")
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    assert worker(cluster, "mongo", other_than=pid) is not None, "MongoDB was not started again"
    assert wait_for_port(cluster.layout.ports.mongo, BACK_WITHIN_S)
    give_up = time.monotonic() + BACK_WITHIN_S
    while True:  # the service finds MongoDB again by itself, on its next calls
        try:
            found = content.GetContent(content_pb.GetContentRequest(id=item.id), timeout=5)
            break
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAVAILABLE and time.monotonic() < give_up, exc
            time.sleep(0.2)
    print(f"\nMongoDB killed with SIGKILL: content served again after {time.monotonic() - killed:.2f} s")
    assert found.title == "Outlives its MongoDB"
    assert create(content_channel, video_item(courses["ASIA"].id)).id


def test_a_deliberate_stop_is_not_undone_by_the_supervisor(cluster):
    pid = worker(cluster, "enrollments")
    supervisor = cluster.cluster.processes.alive("enrollments")
    assert cluster.cluster.stop_service("enrollments")
    try:
        time.sleep(2.0)  # several first backoffs long: a restart would be running by now
        for gone in (pid, supervisor):
            with pytest.raises(ProcessLookupError):
                os.kill(gone, 0)
        assert cluster.cluster.processes.worker("enrollments") is None
        assert health_status(cluster.service("enrollments"), GATEWAY_HEALTH["enrollments"],
                             tls=cluster.tls) == "UNREACHABLE"
        assert [r["state"] for r in cluster.cluster.status() if r["component"] == "enrollments"] == ["stopped"]
    finally:
        cluster.cluster.start_service("enrollments")
