"""`elearn load --batch-size N`: students and lesson progress planned as batch calls of N items, an invalid
item spoiling its whole batch, and a report that counts a batch's rows apart from its calls."""
from __future__ import annotations

import itertools

from elearning.common.v1 import common_pb2
from elearning.enrollments.v1 import enrollments_service_pb2 as enrollments_pb
from loaddriver import invalid, mix, stats
from loaddriver.calls import rows_written
from loaddriver.data import DataMaker
from loaddriver.pool import CourseRef, EnrollmentRef, Person, Pool


def context(batch_size: int) -> mix.Context:
    pool = Pool()
    course = CourseRef(20, "ASIA", (21, 22, 23), "9.99", "INR")
    pool.add("students", Person(10, "EUROPE", "ada@example.com"))
    pool.add("courses", course)
    for n in range(5):
        pool.add("enrollments", EnrollmentRef(30 + n, 10, course))
    ids = itertools.count()
    return mix.Context(DataMaker(seed=3, worker=0), pool, lambda: f"test-{next(ids)}", batch_size=batch_size)


def test_batch_size_one_keeps_single_calls():
    ctx = context(1)
    assert (mix.create_user(ctx).rpc, mix.record_progress(ctx).rpc) == ("CreateUser", "RecordLessonProgress")


def test_a_batch_size_plans_batch_calls_of_that_many_items():
    ctx = context(25)
    users, progress = mix.create_user(ctx), mix.record_progress(ctx)
    assert (users.rpc, users.items, len(users.request.requests)) == ("BatchCreateUsers", 25, 25)
    assert len({r.user.email for r in users.request.requests}) == 25 and users.request.request_id
    assert (progress.rpc, progress.items, len(progress.request.requests)) == ("BatchRecordLessonProgress", 25, 25)
    assert {r.enrollment_id for r in progress.request.requests} <= {30, 31, 32, 33, 34}
    assert list(progress.request.read_mask.paths) == ["status"]  # a player's heartbeats need no rows back
    assert mix.create_instructor(ctx).rpc == "CreateUser"  # instructors stay single calls


def test_an_invalid_item_makes_the_whole_batch_an_expected_rejection():
    planned = invalid.nonpositive_quantity(context(10))
    assert (planned.rpc, planned.expected, planned.kind) == ("BatchRecordLessonProgress", "INVALID_ARGUMENT",
                                                             "nonpositive_quantity")
    assert sum(r.watched_seconds < 0 for r in planned.request.requests) == 1


def test_rows_come_from_the_items_answered_ok():
    planned = mix.record_progress(context(4))
    response = enrollments_pb.BatchRecordLessonProgressResponse(results=[
        enrollments_pb.BatchRecordLessonProgressResult(status=common_pb2.ItemStatus(code=code))
        for code in (0, 0, 5, 0)])
    assert rows_written(planned, response) == 3
    assert rows_written(planned, None) == 0


def call(seq: int, rpc: str, rows: int, items: int = 0, code: str = "OK") -> dict:
    return {"seq": seq, "worker": 0, "rpc": rpc, "kind": "valid", "region": "", "shard": "", "start_s": seq * 0.1,
            "latency_ms": 5.0, "code": code, "expected": "OK", "outcome": "success" if code == "OK" else "unexpected",
            "reason": "", "detail": "", "warmup": False, "items": items, "rows": rows}


def test_the_summary_counts_rows_and_calls_apart():
    calls = [call(1, "BatchRecordLessonProgress", 100, 100), call(2, "BatchCreateUsers", 48, 50),
             call(3, "CreateUser", 1), call(4, "GetUser", 1),
             call(5, "BatchRecordLessonProgress", 0, 100, "UNAVAILABLE")]
    rows = stats.summarize(calls, {"duration_s": 2.0, "options": {}})["rows"]
    assert rows == {"calls": 5, "rows": 149, "batch_calls": 3, "batch_rows": 148, "rows_per_s": 74.5}
