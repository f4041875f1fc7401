"""Telemetry of the real cluster: every process serves /metrics (call counts by method and code on both sides
of the gateway, per-shard query latency, pool use, replica lag), and one Enroll through the gateway is one
trace joining the gateway, the enrollments service, its call to the courses service and their SQL."""
from __future__ import annotations

import json
import os
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.enrollments.v1 import enrollments_service_pb2 as pb
from elearning.enrollments.v1 import enrollments_service_pb2_grpc as pb_grpc
from elearning.users.v1 import users_service_pb2 as users_pb
from launcher.layout import SHARD_NAMES
from shared.settings import SERVICES
from tests.integration import courses_client

pytestmark = pytest.mark.cluster
USERS = "elearning.users.v1.UserService"
ENROLL = "elearning.enrollments.v1.EnrollmentService/Enroll"
GET_COURSE = "elearning.courses.v1.CourseService/GetCourse"


def scrape(cluster, component: str) -> dict[tuple, float]:
    """The samples of every process of `component` (each instance of a service), counters summed."""
    found: dict[tuple, float] = {}
    for owner, port in cluster.layout.metrics_ports().values():
        if owner != component:
            continue
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            text = reply.read().decode()
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                key = (s.name, tuple(sorted(s.labels.items())))
                found[key] = found.get(key, 0.0) + s.value
    return found


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: dict, name: str, **labels) -> float:
    """The sum over every series of `name` carrying at least `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, items), v in samples.items() if n == name and wanted <= set(items))


def test_every_process_serves_metrics_that_count_each_call(cluster, gateway_channel):
    before = {p: scrape(cluster, p) for p in ("gateway", "users")}
    calls = 24
    with ThreadPoolExecutor(12) as pool:
        made = list(pool.map(
            lambda _n: courses_client.instructor(gateway_channel, "EUROPE", role=users_pb.USER_ROLE_STUDENT),
            range(calls)))
    assert len({u.id for u in made}) == calls
    after = {p: scrape(cluster, p) for p in (*SERVICES, "gateway")}

    call = dict(grpc_service=USERS, grpc_method="CreateUser", grpc_type="unary", grpc_code="OK")
    for process in ("gateway", "users"):
        grown = value(after[process], "grpc_server_handled_total", **call) - value(
            before[process], "grpc_server_handled_total", **call)
        assert grown == calls, process
    # The backend label is the users service's target (all its instances), whatever its form.
    assert total(after["gateway"], "grpc_client_handled_total", **call) - total(
        before["gateway"], "grpc_client_handled_total", **call) == calls
    assert total(after["gateway"], "grpc_client_handling_seconds_count", **call) >= calls

    users = after["users"]
    eu_queries = value(users, "elearn_db_query_seconds_count", shard="eu", role="primary") - value(
        before["users"], "elearn_db_query_seconds_count", shard="eu", role="primary")
    assert eu_queries >= calls  # each create is at least one statement on the EU primary
    assert value(users, "elearn_db_commit_seconds_count", shard="eu") > 0
    for shard in SHARD_NAMES:
        assert value(users, "elearn_shard_primary_up", shard=shard) == cluster.layout.instances  # 1 each
        assert ("elearn_replica_lag_bytes", (("shard", shard),)) in users
        assert ("elearn_replica_lag_seconds", (("shard", shard),)) in users
        assert value(users, "elearn_db_pool_in_use", shard=shard, role="primary") >= 0
        assert ("elearn_db_pool_timeouts_total", (("role", "primary"), ("shard", shard))) in users


def sampled_parent() -> tuple[str, str, str]:
    trace_id, span_id = os.urandom(16).hex(), os.urandom(8).hex()
    return trace_id, span_id, f"00-{trace_id}-{span_id}-01"


def read_spans(cluster, trace_id: str) -> list[dict]:
    found = []
    for path in (cluster.layout.data_dir / "traces").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            if trace_id in line:
                span = json.loads(line)
                if span["context"]["trace_id"] == f"0x{trace_id}":
                    found.append(span)
    return found


def spans_of(cluster, trace_id: str, root: str, seconds: float = 20.0) -> list[dict]:
    """The exported spans of one trace. Each process writes its spans in batches every 0.5 s: once the
    gateway's server span (the last to end) is out, the others are at most one batch away."""
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        if any(s["parent_id"] == f"0x{root}" for s in read_spans(cluster, trace_id)):
            time.sleep(2)
            break
        time.sleep(0.2)
    return read_spans(cluster, trace_id)


def test_one_enroll_is_one_trace_from_the_gateway_to_the_sql(cluster, gateway_channel):
    teacher = courses_client.instructor(gateway_channel, "OCEANIA")
    course = courses_client.course(gateway_channel, teacher.id, courses_client.category(gateway_channel).id)
    courses_client.stub(gateway_channel).PublishCourse(courses_pb.PublishCourseRequest(id=course.id), timeout=10)
    learner = courses_client.instructor(gateway_channel, "EUROPE", role=users_pb.USER_ROLE_STUDENT)
    trace_id, root, traceparent = sampled_parent()

    pb_grpc.EnrollmentServiceStub(gateway_channel).Enroll(
        pb.EnrollRequest(student_id=learner.id, course_id=course.id), timeout=10,
        metadata=(("traceparent", traceparent),))

    spans = spans_of(cluster, trace_id, root)
    by_id = {s["context"]["span_id"]: s for s in spans}

    def where(span: dict) -> str:
        return span["resource"]["attributes"]["service.name"].removeprefix("elearn-")

    def one(process: str, name: str, kind: str) -> dict:
        found = [s for s in spans if where(s) == process and s["name"] == name and s["kind"] == f"SpanKind.{kind}"]
        assert len(found) == 1, (process, name, kind, [(where(s), s["name"], s["kind"]) for s in spans])
        return found[0]

    gateway_in = one("gateway", ENROLL, "SERVER")
    assert gateway_in["parent_id"] == f"0x{root}"  # joined to the caller's trace
    gateway_out = one("gateway", ENROLL, "CLIENT")
    assert gateway_out["parent_id"] == gateway_in["context"]["span_id"]
    enroll = one("enrollments", ENROLL, "SERVER")
    assert enroll["parent_id"] == gateway_out["context"]["span_id"]
    # The course is read twice (its snapshot, then after the write to confirm it is still open): each read is
    # a client span in the enrollments service and a server span of the courses service beneath it.
    def named(process: str, kind: str) -> list[dict]:
        return [s for s in spans if where(s) == process and s["name"] == GET_COURSE and s["kind"] == f"SpanKind.{kind}"]

    checks, served = named("enrollments", "CLIENT"), named("courses", "SERVER")
    assert checks and len(served) == len(checks), [(where(s), s["name"], s["kind"]) for s in spans]
    assert {s["parent_id"] for s in served} == {s["context"]["span_id"] for s in checks}
    get_course = served[0]

    def under(span: dict, ancestor: dict) -> bool:
        while span is not None:
            if span["context"]["span_id"] == ancestor["context"]["span_id"]:
                return True
            span = by_id.get(span["parent_id"])
        return False

    sql = [s for s in spans if s["attributes"].get("db.system") == "postgresql"]
    enroll_sql = [s for s in sql if where(s) == "enrollments" and under(s, enroll)]
    course_sql = [s for s in sql if where(s) == "courses" and under(s, get_course)]
    assert any("enroll_student(" in s["attributes"]["db.statement"] and s["attributes"]["elearn.shard"] == "eu"
               and s["attributes"]["elearn.role"] == "primary" for s in enroll_sql), enroll_sql  # the write
    assert any("FROM courses" in s["attributes"]["db.statement"] for s in course_sql), course_sql
    assert all(str(learner.id) not in s["attributes"]["db.statement"] for s in sql)  # statements, never values
    assert all(under(s, gateway_in) for s in spans if s is not gateway_in)
