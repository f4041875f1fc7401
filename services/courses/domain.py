"""The courses domain model: plain values, free of gRPC and of the database driver."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

LEVELS = ("BEGINNER", "INTERMEDIATE", "ADVANCED")
STATES = ("DRAFT", "PUBLISHED", "ARCHIVED")
LESSON_KINDS = ("VIDEO", "ARTICLE", "QUIZ")


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    slug: str
    description: str
    parent_id: int
    created_at: datetime


@dataclass(frozen=True)
class Lesson:
    title: str
    kind: str
    duration_seconds: int
    is_preview: bool = False
    id: int = 0
    module_id: int = 0
    position: int = 0


@dataclass(frozen=True)
class Module:
    title: str
    lessons: tuple[Lesson, ...] = ()
    id: int = 0
    course_id: int = 0
    position: int = 0


@dataclass(frozen=True)
class CourseDraft:
    """A validated course to create (or the validated fields of an update)."""

    instructor_id: int
    category_id: int
    title: str
    subtitle: str
    description: str
    language: str
    level: str
    price: Decimal
    currency: str
    modules: tuple[Module, ...] = ()


@dataclass(frozen=True)
class Course:
    id: int
    instructor_id: int
    region: str
    category_id: int
    title: str
    subtitle: str
    description: str
    language: str
    level: str
    price: Decimal
    currency: str
    state: str
    average_rating: float
    review_count: int
    duration_minutes: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    modules: tuple[Module, ...] = ()
    enrollment_count: int = 0


@dataclass(frozen=True)
class Review:
    id: int
    course_id: int
    student_id: int
    rating: int
    comment: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CourseFilter:
    category_id: int = 0
    region: str = ""
    instructor_id: int = 0
    state: str = ""
    drafts_of: int | None = None  # drafts shown only to this instructor; None: to anyone (admins, services)


@dataclass(frozen=True)
class CourseStatistics:
    course_id: int
    enrollment_count: int
    completion_count: int
    cancellation_count: int
    average_progress_percent: float
    average_rating: float
    review_count: int
    revenue: Decimal
    currency: str
