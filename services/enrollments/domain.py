"""The enrollments domain model: plain values, free of gRPC and of the database driver."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

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
