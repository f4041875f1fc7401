"""The rules of the enrollments service: validation, placement, the course check. No gRPC, no SQL."""
from __future__ import annotations

from datetime import datetime
from typing import Protocol

from services.enrollments.domain import (
    STATES,
    BatchRow,
    CourseSnapshot,
    Enrollment,
    LessonProgress,
    ProgressItem,
    ProgressOutcome,
    Returned,
)
from services.enrollments.owners import Owners
from shared import batches, idempotency, pagination
from shared.auth import caller
from shared.errors import DomainError, FailedPrecondition, InvalidArgument, NotFound, Violations
from shared.fan_out import FanOut
from shared.sharding import ShardMap
from shared.unit_of_work import UnitOfWork, UnitsOfWork

MAX_SECONDS = 24 * 3600


class EnrollmentStore(Protocol):
    """Storage of enrollments on the student's shard; `PgEnrollmentStore` is the real one, unit tests use
    `tests/unit/enrollments_fakes.FakeEnrollmentStore`. Writes take the service's unit of work, except
    `record_progress` and `batch_record_progress`, each one round trip to a procedure that commits by itself
    (the platform's hottest writes), run again whole by the store after a lost race."""

    def enroll(self, tx: UnitOfWork, student_id: int, course: CourseSnapshot, request_id: str,
               fingerprint: bytes) -> tuple[Enrollment, bool]: ...

    def withdraw(self, tx: UnitOfWork, enrollment_id: int, request_id: str) -> None: ...

    def count_course_enrollments(self, shard: str, course_id: int) -> int: ...

    def get(self, shard: str, enrollment_id: int) -> Enrollment | None: ...

    def list(self, shard: str, student_id: int, state: str, after: tuple[datetime, int] | None,
             limit: int) -> list[Enrollment]: ...

    def record_progress(self, shard: str, enrollment_id: int, lesson_id: int, watched: int, position: int,
                        completed: bool) -> tuple[LessonProgress, Enrollment]: ...

    def batch_record_progress(self, shard: str, items: list[tuple[int, ProgressItem]], request_id: str,
                              fingerprint: bytes, returned: Returned = Returned.ALL) -> list[BatchRow]: ...

    def list_progress(self, shard: str, enrollment_id: int, after_lesson: int,
                      limit: int) -> list[LessonProgress]: ...

    def cancel(self, tx: UnitOfWork, enrollment_id: int, reason: str) -> Enrollment: ...


class CourseCatalog(Protocol):
    def snapshot(self, course_id: int) -> CourseSnapshot: ...

    def is_open(self, course_id: int) -> bool: ...


class EnrollmentService:
    def __init__(self, store: EnrollmentStore, shard_map: ShardMap, courses: CourseCatalog, fan_out: FanOut, *,
                 units: UnitsOfWork):
        self.store = store
        self.units = units
        self.shards = shard_map
        self.courses = courses
        self.fan_out = fan_out
        self.owners = Owners()

    def _shard(self, id_: int, field: str) -> str:
        return self.shards.for_id(id_, field=field).name

    def enroll(self, student_id: int, course_id: int, request_id: str) -> Enrollment:
        violations = Violations()
        for value, field in ((student_id, "student_id"), (course_id, "course_id")):
            try:
                self._shard(value, field)
            except InvalidArgument as exc:
                violations.items.extend(exc.violations)
        violations.raise_if_any()
        idempotency.check_request_id(request_id)
        shard = self._shard(student_id, "student_id")
        try:
            course = self.courses.snapshot(course_id)
        except NotFound:
            raise FailedPrecondition(f"course {course_id} does not exist", reason="COURSE_NOT_FOUND") from None
        if course.state != "PUBLISHED":
            raise FailedPrecondition(f"course {course_id} is {course.state}, not open to enrollment",
                                     reason="COURSE_NOT_PUBLISHED")
        fingerprint = idempotency.fingerprint({"student_id": student_id, "course_id": course_id})
        enrollment, created = self.units.write(shard, lambda tx: self.store.enroll(tx, student_id, course, request_id,
                                                                                   fingerprint))
        if created:
            self._confirm_still_open(shard, enrollment, request_id)
        return enrollment

    def _confirm_still_open(self, shard: str, enrollment: Enrollment, request_id: str) -> None:
        """Enroll's half of the protocol with DeleteCourse (README: "DeleteCourse racing Enroll"): with the
        enrollment committed, the course must still be open on its primary; else, or when that cannot be
        known, the enrollment is withdrawn before anyone learns its ID."""
        try:
            still_open = self.courses.is_open(enrollment.course_id)
        except Exception:
            self._withdraw(shard, enrollment, request_id)
            raise
        if not still_open:
            self._withdraw(shard, enrollment, request_id)
            raise FailedPrecondition(f"course {enrollment.course_id} closed while enrolling",
                                     reason="COURSE_NOT_PUBLISHED")

    def _withdraw(self, shard: str, enrollment: Enrollment, request_id: str) -> None:
        self.units.write(shard, lambda tx: self.store.withdraw(tx, enrollment.id, request_id))

    def count_course_enrollments(self, course_id: int) -> int:
        """A course's enrollments in any state, summed over every shard's primary."""
        self._shard(course_id, "course_id")
        return sum(self.fan_out.map(lambda s: self.store.count_course_enrollments(s, course_id), self.shards.names))

    def _own(self, shard: str, enrollment_id: int) -> None:
        """A student touches only their own enrollments; someone else's reads as not existing. The owner is
        read once per enrollment, then remembered (`Owners`: it never changes)."""
        if caller.bound_user() is not None:
            def look_up() -> int | None:
                found = self.store.get(shard, enrollment_id)
                return found.student_id if found else None

            owner = self.owners.owner(enrollment_id, look_up)
            caller.require_owner(owner if owner is not None else -1, "enrollment", enrollment_id)

    def get_enrollment(self, enrollment_id: int) -> Enrollment:
        enrollment = self.store.get(self._shard(enrollment_id, "id"), enrollment_id)
        if enrollment is None:
            raise NotFound("enrollment", enrollment_id)
        return enrollment

    def list_enrollments(self, student_id: int, state: str, page_size: int,
                         page_token: str) -> tuple[list[Enrollment], str]:
        shard = self._shard(student_id, "student_id")
        if state and state not in STATES:
            raise InvalidArgument("state", f"unknown state {state!r}")
        limit = pagination.page_size(page_size)
        query = {"method": "ListEnrollments", "student_id": student_id, "state": state}
        after = pagination.decode_time_key(page_token, query)
        rows = self.store.list(shard, student_id, state, after, limit + 1)
        return pagination.time_keyset_page(rows, limit, query)

    def _check_progress(self, item: ProgressItem, violations: Violations, index: int | None = None) -> str:
        """Adds what is wrong with `item` (a batch's item `index`) to `violations`; returns its shard ("" when
        its ID is wrong)."""
        shard = ""
        try:
            shard = self.shards.for_id(item.enrollment_id).name
        except InvalidArgument as exc:
            for violation in exc.violations:
                violations.add(batches.field_path(index, "enrollment_id"), violation.description)
        if item.lesson_id <= 0:
            violations.add(batches.field_path(index, "lesson_id"), "is required")
        for value, field in ((item.watched_seconds, "watched_seconds"), (item.position_seconds, "position_seconds")):
            if not 0 <= value <= MAX_SECONDS:
                violations.add(batches.field_path(index, field), f"must be from 0 to {MAX_SECONDS} (got {value})")
        return shard

    def record_progress(self, enrollment_id: int, lesson_id: int, watched_seconds: int, position_seconds: int,
                        completed: bool) -> tuple[LessonProgress, Enrollment]:
        item = ProgressItem(enrollment_id, lesson_id, watched_seconds, position_seconds, completed)
        violations = Violations()
        self._check_progress(item, violations)
        violations.raise_if_any()
        shard = self._shard(enrollment_id, "enrollment_id")
        self._own(shard, enrollment_id)
        return self.store.record_progress(shard, enrollment_id, lesson_id, watched_seconds, position_seconds,
                                          completed)

    def batch_record_progress(self, items: list[ProgressItem], request_id: str,
                              returned: Returned = Returned.ALL) -> list[ProgressOutcome]:
        """Every item checked first; then each shard's part in one transaction, the shards in parallel and
        independent: a shard that fails fails its own items only (each outcome says why). Only admins and
        services call it (shared/auth/policy.py), so no item needs an ownership check. An outcome holds the
        rows `returned` asks for (the writes are the same whatever it is)."""
        shards: list[str] = []  # each item's, found while checking it
        batches.check_batch(items, request_id, lambda i, item, v: shards.append(
            self._check_progress(item, v, i)))
        parts = batches.split_by_shard(list(zip(shards, items, strict=True)))
        fingerprint = batches.batch_fingerprint("BatchRecordLessonProgress", items) if request_id else b""

        def write(shard: str) -> list[ProgressOutcome]:
            try:
                rows = self.store.batch_record_progress(shard, parts[shard], request_id, fingerprint, returned)
            except InvalidArgument:
                raise  # the request_id names another batch: the whole call is wrong
            except DomainError as exc:
                return [ProgressOutcome(index, error=exc) for index, _ in parts[shard]]
            return [ProgressOutcome(index, progress, enrollment, _item_error(code, index, items[index]))
                    for index, code, progress, enrollment in rows]

        outcomes = [o for shard_outcomes in self.fan_out.map(write, list(parts)) for o in shard_outcomes]
        return sorted(outcomes, key=lambda o: o.index)

    def list_progress(self, enrollment_id: int, page_size: int, page_token: str) -> tuple[list[LessonProgress], str]:
        shard = self._shard(enrollment_id, "enrollment_id")
        limit = pagination.page_size(page_size)
        query = {"method": "ListLessonProgress", "enrollment_id": enrollment_id}
        position = pagination.decode_token(page_token, query) or {"lesson_id": 0}
        if not isinstance(position.get("lesson_id"), int):
            raise InvalidArgument("page_token", "is not a token returned by this method")
        found = self.store.get(shard, enrollment_id)
        if found is None:
            raise NotFound("enrollment", enrollment_id)
        caller.require_owner(found.student_id, "enrollment", enrollment_id)
        rows = self.store.list_progress(shard, enrollment_id, position["lesson_id"], limit + 1)
        if len(rows) <= limit:
            return rows, ""
        rows = rows[:limit]
        return rows, pagination.encode_token({"lesson_id": rows[-1].lesson_id}, query)

    def cancel(self, enrollment_id: int, reason: str) -> Enrollment:
        shard = self._shard(enrollment_id, "id")
        reason = reason.strip()
        if len(reason) > 1000:
            raise InvalidArgument("reason", "must be at most 1000 characters")
        self._own(shard, enrollment_id)
        return self.units.write(shard, lambda tx: self.store.cancel(tx, enrollment_id, reason))


def _item_error(code: str | None, index: int, item: ProgressItem) -> DomainError | None:
    """The error RecordLessonProgress would raise for this item, from the schema's code for it."""
    if code is None:
        return None
    if code == "NOT_FOUND":
        return NotFound("enrollment", item.enrollment_id)
    if code == "CANCELLED":
        return FailedPrecondition(f"enrollment {item.enrollment_id} is cancelled", reason="ENROLLMENT_CANCELLED")
    return InvalidArgument(batches.field_path(index, "lesson_id"),
                           f"lesson {item.lesson_id} is not a lesson of the enrolled course")
