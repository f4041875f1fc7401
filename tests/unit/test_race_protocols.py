"""The service halves of the DeleteCourse/Enroll protocol and CreatePayment's single authorization, over
in-memory fakes: every branch of who withdraws, who releases, and when the processor is asked."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from services.courses.service import CourseService
from services.enrollments.domain import CourseSnapshot, Enrollment
from services.enrollments.service import EnrollmentService
from services.payments.domain import StoredMethod
from services.payments.processor import authorize_once
from shared.errors import Aborted, FailedPrecondition, NotFound, Unavailable
from tests.unit.fake_units import FakeUnitsOfWork
from tests.unit.unit_helpers import Serial, an_id

NOW = datetime(2026, 6, 15, tzinfo=UTC)




# ---- Enroll's half ------------------------------------------------------------------------------------
class FakeCatalog:
    def __init__(self, course_id: int, open_after_commit: bool | Exception):
        self.course_id, self.open_after_commit = course_id, open_after_commit

    def snapshot(self, course_id: int) -> CourseSnapshot:
        return CourseSnapshot(course_id, "A course", Decimal("9.99"), "EUR", "PUBLISHED", (1, 2))

    def is_open(self, course_id: int) -> bool:
        if isinstance(self.open_after_commit, Exception):
            raise self.open_after_commit
        return self.open_after_commit


class FakeEnrollmentStore:
    def __init__(self, created: bool = True):
        self.created, self.rows, self.withdrawn = created, {}, []

    def enroll(self, tx, student_id, course, request_id, fingerprint):
        row = Enrollment(id=len(self.rows) + 1, student_id=student_id, course_id=course.course_id, region="EUROPE",
                         state="ACTIVE", payment_state="UNPAID", progress_percent=0.0, course_title=course.title,
                         course_price=course.price, course_currency=course.currency, enrolled_at=NOW,
                         completed_at=None, cancelled_at=None, cancel_reason="", updated_at=NOW)
        self.rows[row.id] = row
        return row, self.created

    def withdraw(self, tx, enrollment_id, request_id):
        self.withdrawn.append((tx.shard, enrollment_id, request_id))
        del self.rows[enrollment_id]

    def count_course_enrollments(self, shard, course_id):
        return {"na": 0, "eu": 2, "apac": 1}[shard]


def enroll(shard_map, open_after_commit, created: bool = True):
    course_id = an_id(shard_map, "apac", 7)
    store = FakeEnrollmentStore(created)
    service = EnrollmentService(store, shard_map, FakeCatalog(course_id, open_after_commit), Serial(),
                                units=FakeUnitsOfWork(store))
    return service, store, lambda: service.enroll(an_id(shard_map, "eu", 1), course_id, "req-1")


def test_an_enrollment_whose_course_stayed_open_is_kept(shard_map):
    _service, store, call = enroll(shard_map, True)
    assert call().id in store.rows and not store.withdrawn


def test_an_enrollment_whose_course_closed_meanwhile_is_withdrawn(shard_map):
    _service, store, call = enroll(shard_map, False)
    with pytest.raises(FailedPrecondition):
        call()
    assert store.withdrawn == [("eu", 1, "req-1")] and not store.rows


def test_an_enrollment_whose_course_cannot_be_checked_is_withdrawn(shard_map):
    _service, store, call = enroll(shard_map, Unavailable("courses is down"))
    with pytest.raises(Unavailable):
        call()
    assert store.withdrawn and not store.rows


def test_a_replayed_enrollment_is_never_withdrawn(shard_map):
    """It was confirmed when it was created; a closed course now must not undo it."""
    _service, store, call = enroll(shard_map, False, created=False)
    assert call().id in store.rows and not store.withdrawn


def test_course_enrollments_are_counted_on_every_shard(shard_map):
    service, _store, _call = enroll(shard_map, True)
    assert service.count_course_enrollments(an_id(shard_map, "na", 3)) == 3


# ---- DeleteCourse's half ------------------------------------------------------------------------------
class FakeCourseStore:
    def __init__(self, claim_result=True, delete_result=True):
        self.claim_result, self.delete_result, self.log = claim_result, delete_result, []

    def claim_delete(self, tx, course_id, claim, *, stale_after_s):
        self.log.append("claim")
        return self.claim_result

    def release_delete(self, tx, course_id, claim):
        self.log.append("release")

    def delete_course(self, tx, course_id, claim):
        self.log.append("delete")
        return self.delete_result


class FakeEnrollments:
    def __init__(self, count):
        self.count = count

    def is_enrolled(self, student_id, course_id):
        return False

    def count_enrollments(self, course_id):
        if isinstance(self.count, Exception):
            raise self.count
        return self.count


@pytest.mark.parametrize("store_args, count, error, log", [
    (dict(), 0, None, ["claim", "delete"]),
    (dict(), 2, FailedPrecondition, ["claim", "release"]),
    (dict(), Unavailable("enrollments is down"), Unavailable, ["claim", "release"]),
    (dict(claim_result=None), 0, NotFound, ["claim"]),
    (dict(claim_result=False), 0, Aborted, ["claim"]),
    (dict(delete_result=False), 0, Aborted, ["claim", "delete"]),
], ids=["no-enrollments", "enrolled", "cannot-count", "no-course", "claimed-by-another", "claim-taken-over"])
def test_delete_course_deletes_only_under_its_claim(shard_map, store_args, count, error, log):
    store = FakeCourseStore(**store_args)
    service = CourseService(store, shard_map, FakeEnrollments(count), Serial(), units=FakeUnitsOfWork(store))
    course_id = an_id(shard_map, "na", 5)
    if error is None:
        service.delete_course(course_id)
    else:
        with pytest.raises(error):
            service.delete_course(course_id)
    assert store.log == log


# ---- CreatePayment: one authorization per call --------------------------------------------------------
def test_a_retried_payment_reuses_the_first_authorization():
    asked = []

    def authorize(method, amount, currency):
        asked.append(method)
        return "card_declined" if len(asked) > 1 else ""

    ask = authorize_once(authorize)
    card = StoredMethod("CARD", "tok_visa", 12, 2099)
    assert [ask(card, Decimal("9.99"), "EUR") for _ in range(3)] == ["", "", ""]
    assert asked == [card]
