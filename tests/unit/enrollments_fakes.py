"""In-memory fakes of the enrollments service's ports (EnrollmentStore, CourseCatalog) for unit tests.

The store keeps rows per shard, as `PgEnrollmentStore` does on the student's shard, and follows the schema's
rules that the service relies on (sql/migrations/0005, 0008, 0010): one live enrollment per student and course,
watched time only grows, a completed lesson stays completed, the enrollment completes with its last lesson.
Writes take the service's unit of work (`tests/unit/fake_units.FakeUnitsOfWork`), which undoes them when the
body raises. That the real store and the schema do the same is the integration tests' job.
"""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.enrollments.domain import BatchRow, CourseSnapshot, Enrollment, LessonProgress, ProgressItem, Returned
from shared import ids
from shared.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from shared.sharding import ShardMap
from tests.unit.fake_keys import FakeKeys
from tests.unit.fake_units import FakeUnitOfWork

ENROLL = "enrollments.Enroll"
BATCH_PROGRESS = "enrollments.BatchRecordLessonProgress"
START = datetime(2026, 3, 1, tzinfo=UTC)


class FakeEnrollmentStore:
    def __init__(self, shard_map: ShardMap):
        self.shard_map = shard_map
        names = shard_map.names
        self.calls: list[tuple[str, str]] = []
        self.students: dict[str, dict[int, str]] = {n: {} for n in names}  # id -> region, the users rows it sees
        self.rows: dict[str, dict[int, Enrollment]] = {n: {} for n in names}
        self.lessons: dict[str, dict[int, tuple[int, ...]]] = {n: {} for n in names}  # course_lesson_refs
        self.progress: dict[str, dict[tuple[int, int], LessonProgress]] = {n: {} for n in names}
        self.keys = {n: FakeKeys() for n in names}
        self._clock = START
        self._sequence = 0

    def add_student(self, student_id: int, region: str = "EUROPE") -> None:
        self.students[self.shard_map.for_id(student_id).name][student_id] = region

    def _tick(self) -> datetime:
        self._clock += timedelta(seconds=1)
        return self._clock

    def _new_id(self, shard: str) -> int:
        self._sequence += 1
        return ids.encode(ids.EPOCH_MS + 1000 + self._sequence, self.shard_map.by_name(shard).number, self._sequence)

    def enroll(self, tx: FakeUnitOfWork, student_id: int, course: CourseSnapshot, request_id: str,
               fingerprint: bytes) -> tuple[Enrollment, bool]:
        shard = tx.shard
        self.calls.append(("enroll", shard))
        new_id = self._new_id(shard)
        replay = self.keys[shard].claim(ENROLL, request_id, fingerprint, new_id)
        if replay is not None:
            return self.rows[shard][replay.resource_id], False
        region = self.students[shard].get(student_id)
        if region is None:
            raise FailedPrecondition("the student does not exist", reason="STUDENT_NOT_FOUND")
        if any(e.student_id == student_id and e.course_id == course.course_id and e.state != "CANCELLED"
               for e in self.rows[shard].values()):
            raise AlreadyExists("enrollment", "course_id")
        self.lessons[shard].setdefault(course.course_id, course.lesson_ids)
        now = self._tick()
        row = Enrollment(id=new_id, student_id=student_id, course_id=course.course_id, region=region,
                         state="ACTIVE", payment_state="PAID" if course.price == 0 else "UNPAID",
                         progress_percent=0.0, course_title=course.title, course_price=course.price,
                         course_currency=course.currency, enrolled_at=now, completed_at=None, cancelled_at=None,
                         cancel_reason="", updated_at=now)
        self.rows[shard][new_id] = row
        return row, True

    def withdraw(self, tx: FakeUnitOfWork, enrollment_id: int, request_id: str) -> None:
        shard = tx.shard
        self.calls.append(("withdraw", shard))
        self.keys[shard].release(ENROLL, request_id)
        self.rows[shard].pop(enrollment_id, None)
        for key in [k for k in self.progress[shard] if k[0] == enrollment_id]:
            del self.progress[shard][key]

    def count_course_enrollments(self, shard: str, course_id: int) -> int:
        self.calls.append(("count_course_enrollments", shard))
        return sum(e.course_id == course_id for e in self.rows[shard].values())

    def get(self, shard: str, enrollment_id: int) -> Enrollment | None:
        self.calls.append(("get", shard))
        return self.rows[shard].get(enrollment_id)

    def list(self, shard: str, student_id: int, state: str, after: tuple[datetime, int] | None,
             limit: int) -> list[Enrollment]:
        self.calls.append(("list", shard))
        rows = sorted((e for e in self.rows[shard].values() if e.student_id == student_id
                       and (not state or e.state == state) and (after is None or (e.enrolled_at, e.id) > after)),
                      key=lambda e: (e.enrolled_at, e.id))
        return rows[:limit]

    def _record(self, shard: str, item: ProgressItem) -> tuple[str | None, LessonProgress | None, Enrollment | None]:
        """One item as the schema records it: an error code (NOT_FOUND, CANCELLED, LESSON) or the new rows."""
        enrollment = self.rows[shard].get(item.enrollment_id)
        if enrollment is None:
            return "NOT_FOUND", None, None
        if enrollment.state == "CANCELLED":
            return "CANCELLED", None, None
        lessons = self.lessons[shard].get(enrollment.course_id, ())
        if item.lesson_id not in lessons:
            return "LESSON", None, None
        now = self._tick()
        key = (item.enrollment_id, item.lesson_id)
        old = self.progress[shard].get(key)
        done = item.completed or (old is not None and old.stored_state == "COMPLETED")
        progress = LessonProgress(
            enrollment_id=item.enrollment_id, lesson_id=item.lesson_id,
            stored_state="COMPLETED" if done else "IN_PROGRESS",
            watched_seconds=max(item.watched_seconds, old.watched_seconds if old else 0),
            last_position_seconds=item.position_seconds, updated_at=now,
            completed_at=(old.completed_at if old and old.completed_at else now) if done else None)
        self.progress[shard][key] = progress
        completed = sum(p.stored_state == "COMPLETED" for (e, _), p in self.progress[shard].items()
                        if e == item.enrollment_id)
        percent = float(round(Decimal(100) * min(completed, len(lessons)) / len(lessons), 2))
        finished = enrollment.state == "ACTIVE" and completed >= len(lessons)
        enrollment = dataclasses.replace(
            enrollment, progress_percent=percent, updated_at=now,
            state="COMPLETED" if finished else enrollment.state,
            completed_at=now if finished else enrollment.completed_at)
        self.rows[shard][item.enrollment_id] = enrollment
        return None, progress, enrollment

    def record_progress(self, shard: str, enrollment_id: int, lesson_id: int, watched: int, position: int,
                        completed: bool) -> tuple[LessonProgress, Enrollment]:
        self.calls.append(("record_progress", shard))
        code, progress, enrollment = self._record(shard, ProgressItem(enrollment_id, lesson_id, watched, position,
                                                                      completed))
        if code == "NOT_FOUND":
            raise NotFound("enrollment", enrollment_id)
        if code == "CANCELLED":
            raise FailedPrecondition(f"enrollment {enrollment_id} is cancelled", reason="ENROLLMENT_CANCELLED")
        if code == "LESSON":
            raise InvalidArgument("lesson_id", "is not a lesson of the enrolled course")
        assert progress is not None and enrollment is not None
        return progress, enrollment

    def batch_record_progress(self, shard: str, items: list[tuple[int, ProgressItem]], request_id: str,
                              fingerprint: bytes, returned: Returned = Returned.ALL) -> list[BatchRow]:
        self.calls.append(("batch_record_progress", shard))
        rows: list[BatchRow] | None = None
        if request_id:
            new, stored = self.keys[shard].claim_batch(BATCH_PROGRESS, request_id, fingerprint)
            if not new:
                rows = list(stored)
        if rows is None:
            rows = [(index, *self._record(shard, item)) for index, item in items]
            if request_id:
                self.keys[shard].store_batch(BATCH_PROGRESS, request_id, rows)
        # As the schema returns them: the fields not asked for are not read back.
        return [(index, error, progress if returned >= Returned.PROGRESS else None,
                 enrollment if returned is Returned.ALL else None) for index, error, progress, enrollment in rows]

    def list_progress(self, shard: str, enrollment_id: int, after_lesson: int, limit: int) -> list[LessonProgress]:
        self.calls.append(("list_progress", shard))
        rows = sorted((p for (e, lesson), p in self.progress[shard].items()
                       if e == enrollment_id and lesson > after_lesson), key=lambda p: p.lesson_id)
        return rows[:limit]

    def cancel(self, tx: FakeUnitOfWork, enrollment_id: int, reason: str) -> Enrollment:
        shard = tx.shard
        self.calls.append(("cancel", shard))
        enrollment = self.rows[shard].get(enrollment_id)
        if enrollment is None:
            raise NotFound("enrollment", enrollment_id)
        if enrollment.state != "ACTIVE":
            raise FailedPrecondition(f"only an ACTIVE enrollment can be cancelled (this one is {enrollment.state})",
                                     reason="FAILED_PRECONDITION")
        now = self._tick()
        cancelled = dataclasses.replace(enrollment, state="CANCELLED", cancelled_at=now, cancel_reason=reason,
                                        updated_at=now)
        self.rows[shard][enrollment_id] = cancelled
        return cancelled


class FakeCatalog:
    """The courses service as the enrollments service asks it: courses by ID, each PUBLISHED unless set."""

    def __init__(self) -> None:
        self.courses: dict[int, CourseSnapshot] = {}

    def add(self, course_id: int, *, state: str = "PUBLISHED", price: str = "9.99",
            lesson_ids: tuple[int, ...] = (1, 2)) -> CourseSnapshot:
        course = CourseSnapshot(course_id, f"Course {course_id}", Decimal(price), "EUR", state, lesson_ids)
        self.courses[course_id] = course
        return course

    def snapshot(self, course_id: int) -> CourseSnapshot:
        if course_id not in self.courses:
            raise NotFound("course", course_id)
        return self.courses[course_id]

    def is_open(self, course_id: int) -> bool:
        course = self.courses.get(course_id)
        return course is not None and course.state == "PUBLISHED"
