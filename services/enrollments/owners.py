"""Who owns an enrollment, remembered: the ownership check of a student's RecordLessonProgress (a video player's
heartbeat, the platform's hottest write) then costs no read before the write.

An enrollment's student never changes (no statement updates `enrollments.student_id`) and IDs are never reused,
so a remembered owner never goes stale. Only found enrollments are remembered: a missing one is looked up again
(it may be one just made). The write itself still refuses an enrollment that is gone or cancelled. Bounded:
past `capacity` entries the oldest half is forgotten (dicts keep insertion order).
"""
from __future__ import annotations

import threading
from collections.abc import Callable

CAPACITY = 100_000  # a few MB; about every enrollment active at once on a busy instance


class Owners:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._owners: dict[int, int] = {}
        self._lock = threading.Lock()

    def owner(self, enrollment_id: int, look_up: Callable[[], int | None]) -> int | None:
        """The student of `enrollment_id`, remembered or found by `look_up()` (None: no such enrollment)."""
        found = self._owners.get(enrollment_id)
        if found is not None:
            return found
        found = look_up()
        if found is not None:
            with self._lock:
                if len(self._owners) >= self._capacity:
                    for key in list(self._owners)[: max(1, self._capacity // 2)]:
                        del self._owners[key]
                self._owners[enrollment_id] = found
        return found

    def __len__(self) -> int:
        return len(self._owners)
