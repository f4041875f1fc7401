"""loaddriver.mix reads: each reads an ID an earlier call created, and plans a create while there is none."""
from __future__ import annotations

import itertools

import pytest

from loaddriver import mix
from loaddriver.data import DataMaker
from loaddriver.pool import CourseRef, EnrollmentRef, Person, Pool

READS = (mix.get_user, mix.get_course, mix.get_enrollment, mix.list_enrollments)


@pytest.fixture(scope="module")
def data() -> DataMaker:
    return DataMaker(seed=1, worker=0)


def context(data: DataMaker, pool: Pool) -> mix.Context:
    ids = itertools.count()
    return mix.Context(data, pool, lambda: f"test-{next(ids)}")


def filled_pool() -> Pool:
    pool = Pool()
    course = CourseRef(20, "ASIA", (21, 22), "9.99", "INR")
    pool.add("students", Person(10, "EUROPE", "ada@example.com"))
    pool.add("courses", course)
    pool.add("enrollments", EnrollmentRef(30, 10, course))
    return pool


def test_reads_plan_a_create_while_nothing_exists(data):
    pool = Pool()
    pool.add("categories", 1)
    for read in READS:
        planned = read(context(data, pool))
        assert planned.rpc in ("CreateUser", "Enroll"), (read.__name__, planned.rpc)


def test_reads_use_the_ids_earlier_calls_made(data):
    ctx = context(data, filled_pool())
    user, course, enrollment, listing = (read(ctx) for read in READS)
    assert (user.rpc, user.request.id, user.region) == ("GetUser", 10, "EUROPE")
    assert (course.rpc, course.request.id, course.region) == ("GetCourse", 20, "ASIA")
    assert (enrollment.rpc, enrollment.request.id) == ("GetEnrollment", 30)
    assert (listing.rpc, listing.request.student_id) == ("ListEnrollments", 10)
    assert all(p.kind == "valid" and p.expected == "OK" and p.on_ok is None
               for p in (user, course, enrollment, listing))


def test_reads_are_in_the_mix():
    assert set(READS) <= {operation for _weight, operation in mix.MIX}
