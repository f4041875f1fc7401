"""What the run has created so far, shared by every worker: later calls use IDs that earlier calls made.

A sample, not a record: each list keeps at most `cap` items (a newer one then replaces a random one), and the
claims of pairs no list can hand out again are dropped, so memory stays flat however long the run is.
"""
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


CAP = 5_000


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
    cap: int = CAP
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _rng: random.Random = field(default_factory=lambda: random.Random(0), repr=False)
    _claim_limits: dict[str, int] = field(default_factory=dict, repr=False)

    def add(self, name: str, item) -> None:
        with self.lock:
            self._add(getattr(self, name), item)

    def _add(self, items: list, item) -> None:
        if len(items) < self.cap:
            items.append(item)
        else:
            items[self._rng.randrange(len(items))] = item

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
            if len(self.cards) >= self.cap and user_id not in self.cards:
                del self.cards[next(iter(self.cards))]  # its owner just adds another card if it pays again
            self.cards[user_id] = method_id

    def claim(self, name: str, key: tuple[int, int]) -> bool:
        """Reserve `key` in the set `name` (reviewed, enrolled); False when another call already has it."""
        with self.lock:
            taken = getattr(self, name)
            if key in taken:
                return False
            taken.add(key)
            if len(taken) > self._claim_limits.get(name, 4 * self.cap):
                self._prune(name, taken)
            return True

    def _prune(self, name: str, taken: set[tuple[int, int]]) -> None:
        """Keep only the claims a later pick could still make: enrolments of students still in the pool,
        reviews of enrolments still in it. Runs when the set has doubled, so its cost per claim is constant."""
        if name == "enrolled":
            live_students = {person.id for person in self.students}
            keep = {key for key in taken if key[0] in live_students}
        else:
            keep = taken & {(e.student_id, e.course.id) for e in self.enrollments}
        taken.intersection_update(keep)
        self._claim_limits[name] = max(4 * self.cap, 2 * len(taken))
