"""The enrollments domain model: plain values, free of gRPC and of the database driver."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import IntEnum
from typing import NamedTuple

from shared.errors import DomainError

STATES = ("ACTIVE", "COMPLETED", "CANCELLED")


@dataclass(frozen=True)
class CourseSnapshot:
    """What an enrollment keeps of its course, as the courses service described it."""

    course_id: int
    title: str
    price: Decimal
    currency: str
    state: str
    lesson_ids: tuple[int, ...]


@dataclass(frozen=True)
class Enrollment:
    id: int
    student_id: int
    course_id: int
    region: str
    state: str
    payment_state: str
    progress_percent: float
    course_title: str
    course_price: Decimal
    course_currency: str
    enrolled_at: datetime
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str
    updated_at: datetime

    @property
    def created_at(self) -> datetime:
        return self.enrolled_at


@dataclass(frozen=True)
class LessonProgress:
    enrollment_id: int
    lesson_id: int
    stored_state: str
    watched_seconds: int
    last_position_seconds: int
    updated_at: datetime
    completed_at: datetime | None

    @property
    def state(self) -> str:
        """COMPLETED, else IN_PROGRESS once something was watched, else NOT_STARTED."""
        if self.stored_state == "COMPLETED":
            return "COMPLETED"
        return "IN_PROGRESS" if self.watched_seconds > 0 else "NOT_STARTED"


class ProgressItem(NamedTuple):
    """One item of BatchRecordLessonProgress, as RecordLessonProgress takes it (a tuple: a batch builds a
    thousand of them, and a frozen dataclass costs several times as much to make)."""

    enrollment_id: int
    lesson_id: int
    watched_seconds: int
    position_seconds: int
    completed: bool


# One item's outcome from the store: its index in the batch, an error code of the schema's or None, the rows
# when recorded.
BatchRow = tuple[int, str | None, LessonProgress | None, Enrollment | None]


class Returned(IntEnum):
    """How much of each item's result a batch returns (BatchRecordLessonProgress's read_mask): each is read back
    from the shard only when returned."""

    STATUS = 0    # each item's error, or none
    PROGRESS = 1  # and the lesson's row
    ALL = 2       # and the enrollment's row


class ProgressOutcome(NamedTuple):
    """One item's result: the rows after the batch (those asked for), or the error the single call would have
    raised."""

    index: int
    progress: LessonProgress | None = None
    enrollment: Enrollment | None = None
    error: DomainError | None = None
