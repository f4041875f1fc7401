"""loaddriver.pool: each list keeps at most `cap` items, and dropping claims never lets a pair that a later
pick could make be claimed twice (which would send a duplicate Enroll or AddReview)."""
from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from loaddriver.pool import CourseRef, EnrollmentRef, Person, Pool


def person(n: int) -> Person:
    return Person(n, "EUROPE", f"p{n}@example.com")


def course(n: int) -> CourseRef:
    return CourseRef(n, "EUROPE", (1, 2), "10.00", "EUR")


def test_lists_and_cards_stay_within_the_cap():
    pool = Pool(cap=50)
    for n in range(10_000):
        pool.add("students", person(n))
        pool.add("used_request_ids", (f"r{n}", "EUROPE"))
        pool.set_card(n, n)
    assert len(pool.students) == len(pool.used_request_ids) == len(pool.cards) == 50
    assert pool.students[-1] != person(49)  # later items did come in


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=2, max_value=20))
def test_a_claimed_pair_that_can_still_be_picked_is_never_claimed_again(seed, cap):
    rng = random.Random(seed)
    pool = Pool(cap=cap)
    claimed, reviewed = set(), set()
    for step in range(1_500):
        pool.add("students", person(step))
        pool.add("courses", course(step % 7))
        student, taken = pool.pick("students", rng), pool.pick("courses", rng)
        if pool.claim("enrolled", (student.id, taken.id)):
            assert (student.id, taken.id) not in claimed, step
            claimed.add((student.id, taken.id))
            pool.add("enrollments", EnrollmentRef(step, student.id, taken))
        enrollment = pool.pick("enrollments", rng)
        if enrollment is not None and pool.claim("reviewed", (enrollment.student_id, enrollment.course.id)):
            assert (enrollment.student_id, enrollment.course.id) not in reviewed, step
            reviewed.add((enrollment.student_id, enrollment.course.id))
    live = {p.id for p in pool.students}
    assert all(pool.claim("enrolled", pair) is False for pair in claimed if pair[0] in live)
    assert len(pool.enrolled) <= max(8 * cap, 2 * len(live) * 7) and len(pool.students) == cap
    assert len(pool.reviewed) <= max(8 * cap, 2 * cap)
