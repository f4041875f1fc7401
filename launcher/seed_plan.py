"""What `elearn seed` makes and how it names each item: the counts, who teaches, enrolls in and pays for what,
and the request IDs, all derived from the seed alone, so a second run with the same seed replays.

Each request ID names the item and what it refers to ("seed-42-course-7-by-3-in-2"): with the same seed and
other counts, an item whose references are unchanged replays and any other is new, never a reused request ID
with different parameters.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, fields

from shared.sharding import REGIONS


class SeedError(RuntimeError):
    """Seeding cannot start or a call failed; the message says which."""


@dataclass(frozen=True)
class Counts:
    """How much to make; the defaults are those of issue 8."""

    students: int = 100
    instructors: int = 20
    categories: int = 8
    courses: int = 50
    enrollments: int = 200
    payments: int = 150
    password_users: int = 3        # students created with a password (scrypt is slow on purpose); others use SSO
    content_per_lesson: int = 1    # content items per lesson (a video for VIDEO lessons, documents otherwise)
    preferences: int | None = None  # users with stored preferences; None means every user

    def check(self) -> None:
        negative = [f.name for f in fields(self) if (getattr(self, f.name) or 0) < 0]
        if negative:
            raise SeedError("counts must not be negative: " + ", ".join(negative))
        if self.courses and not (self.instructors and self.categories):
            raise SeedError("courses need at least one instructor and one category")
        if self.enrollments > self.students * self.courses:
            raise SeedError(f"{self.enrollments} enrollments need at least as many (student, course) pairs; "
                            f"{self.students} students x {self.courses} courses make {self.students * self.courses}")
        if self.payments > self.enrollments:
            raise SeedError(f"{self.payments} payments need as many enrollments (there are {self.enrollments})")
        if self.password_users > self.students:
            raise SeedError(f"--password-users {self.password_users} exceeds --students {self.students}")

    @property
    def users(self) -> int:
        return self.students + self.instructors

    @property
    def preference_users(self) -> int:
        return self.users if self.preferences is None else min(self.preferences, self.users)


def derive(seed: int, *parts: object) -> int:
    """A 64-bit number that depends only on the seed and `parts`."""
    digest = hashlib.sha256("|".join(map(str, (seed, *parts))).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def rng(seed: int, *parts: object) -> random.Random:
    return random.Random(derive(seed, *parts))


def request_id(seed: int, name: str) -> str:
    return f"seed-{seed}-{name}"


@dataclass(frozen=True)
class UserKey:
    role: str   # "student" or "instructor"
    index: int

    @property
    def name(self) -> str:
        return f"{self.role}-{self.index}"

    @property
    def region(self) -> str:
        """Round robin over the six regions, so every region and shard gets its share."""
        return REGIONS[self.index % len(REGIONS)]


@dataclass(frozen=True)
class CourseKey:
    index: int
    instructor: int
    category: int

    @property
    def name(self) -> str:
        return f"course-{self.index}-by-{self.instructor}-in-{self.category}"


@dataclass(frozen=True)
class EnrollmentKey:
    student: int
    course: CourseKey

    @property
    def name(self) -> str:
        return f"student-{self.student}-{self.course.name}"


def users(counts: Counts) -> list[UserKey]:
    return ([UserKey("student", i) for i in range(counts.students)]
            + [UserKey("instructor", i) for i in range(counts.instructors)])


def category_parent(index: int) -> int | None:
    """Categories 0 to 2 are top-level; every other one sits under one of them."""
    return None if index < 3 else index % 3


def courses(seed: int, counts: Counts) -> list[CourseKey]:
    keys = []
    for i in range(counts.courses):
        pick = rng(seed, "course-owner", i, counts.instructors, counts.categories)
        keys.append(CourseKey(i, pick.randrange(counts.instructors), pick.randrange(counts.categories)))
    return keys


def enrollments(seed: int, counts: Counts, course_keys: list[CourseKey]) -> list[EnrollmentKey]:
    """Distinct (student, course) pairs."""
    picks = rng(seed, "enrollments", counts.students, counts.courses).sample(
        range(counts.students * counts.courses), counts.enrollments)
    return [EnrollmentKey(k // counts.courses, course_keys[k % counts.courses]) for k in picks]


def paid(seed: int, counts: Counts) -> set[int]:
    """The indexes (into `enrollments`) of the enrollments that are paid for."""
    return set(rng(seed, "payments", counts.enrollments).sample(range(counts.enrollments), counts.payments))


def progress(seed: int, enrollment: EnrollmentKey, lessons: int) -> tuple[int, bool]:
    """(lessons completed, in order from the first; whether the next one is started): about one student in six
    has not begun, one in four has finished, the rest are part way."""
    pick = rng(seed, "progress", enrollment.name)
    roll = pick.random()
    if roll < 0.15 or lessons == 0:
        return 0, False
    if roll < 0.40:
        return lessons, False
    return pick.randrange(0, lessons), True
