"""What the run has created so far, shared by every worker: later calls use IDs that earlier calls made."""
from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Person:
    id: int
    region: str
    email: str


@dataclass(frozen=True)
class CourseRef:
    id: int
    region: str
    lesson_ids: tuple[int, ...]
    amount: str
    currency: str


@dataclass(frozen=True)
class EnrollmentRef:
    id: int
    student_id: int
    course: CourseRef


@dataclass
class Pool:
    students: list[Person] = field(default_factory=list)
    instructors: list[Person] = field(default_factory=list)
    categories: list[int] = field(default_factory=list)
    courses: list[CourseRef] = field(default_factory=list)
    enrollments: list[EnrollmentRef] = field(default_factory=list)
    unpaid: list[EnrollmentRef] = field(default_factory=list)
    cards: dict[int, int] = field(default_factory=dict)  # user ID → payment method ID
    reviewed: set[tuple[int, int]] = field(default_factory=set)
    enrolled: set[tuple[int, int]] = field(default_factory=set)
    used_request_ids: list[tuple[str, str]] = field(default_factory=list)  # (rpc, request_id)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, item) -> None:
        with self.lock:
            getattr(self, name).append(item)

    def pick(self, name: str, rng: random.Random):
        with self.lock:
            items = getattr(self, name)
            return rng.choice(items) if items else None

    def take_unpaid(self, rng: random.Random) -> EnrollmentRef | None:
        with self.lock:
            if not self.unpaid:
                return None
            return self.unpaid.pop(rng.randrange(len(self.unpaid)))

    def card_of(self, user_id: int) -> int | None:
        with self.lock:
            return self.cards.get(user_id)

    def set_card(self, user_id: int, method_id: int) -> None:
        with self.lock:
            self.cards[user_id] = method_id

    def claim(self, name: str, key: tuple[int, int]) -> bool:
        """Reserve `key` in the set `name` (reviewed, enrolled); False when another call already has it."""
        with self.lock:
            taken = getattr(self, name)
            if key in taken:
                return False
            taken.add(key)
            return True
