"""The run over time, for the throughput and latency-over-time charts: per slot of time (by completion), the
calls OK and not and the OK calls' latencies in coarse histograms (within 6 %: a chart's resolution).

Slots are one second wide until the run spans more than `max_slots` of them; then each two neighbours merge
into one twice as wide, as often as needed, so a run of any length keeps at most `max_slots` slots: memory
and the JSON's timeline are bounded by `max_slots`, not by how long the run is or how many calls it makes.
"""
from __future__ import annotations

import math

from loaddriver.histogram import LatencyHistogram

MAX_SLOTS = 1024  # a run of up to 17 minutes keeps one slot a second
MERGE_BITS = 4


class Slot:
    """One slot: calls OK and not, and the latencies of the OK calls from the send and from the schedule."""

    __slots__ = ("ok", "not_ok", "sent", "scheduled")

    def __init__(self) -> None:
        self.ok = self.not_ok = 0
        self.sent, self.scheduled = LatencyHistogram(MERGE_BITS), LatencyHistogram(MERGE_BITS)

    def merge(self, other: Slot) -> None:
        self.ok += other.ok
        self.not_ok += other.not_ok
        self.sent.merge(other.sent)
        self.scheduled.merge(other.scheduled)


class Timeline:
    def __init__(self, max_slots: int = MAX_SLOTS) -> None:
        if max_slots < 2:
            raise ValueError("a timeline needs at least 2 slots")
        self.max_slots = max_slots
        self.width_s = 1  # seconds a slot covers, a power of two
        self.slots: dict[int, Slot] = {}  # slot index (seconds since the start // width_s) → slot
        self._first = self._last = 0

    def add(self, t_s: float, ok: bool, latency_ms: float, scheduled_ms: float | None) -> None:
        """A call that completed `t_s` seconds after the start."""
        second = max(math.floor(t_s), 0)
        index = second // self.width_s
        if self.slots:
            while max(self._last, index) - min(self._first, index) >= self.max_slots:
                self._widen()
                index = second // self.width_s
            self._first, self._last = min(self._first, index), max(self._last, index)
        else:
            self._first = self._last = index
        slot = self.slots.get(index)
        if slot is None:
            slot = self.slots[index] = Slot()
        if ok:
            slot.ok += 1
            slot.sent.record(latency_ms)
            if scheduled_ms is not None:
                slot.scheduled.record(scheduled_ms)
        else:
            slot.not_ok += 1

    def _widen(self) -> None:
        """Twice as wide slots: each pair of neighbours becomes one."""
        merged: dict[int, Slot] = {}
        for index in sorted(self.slots):
            slot = self.slots[index]
            into = merged.get(index // 2)
            if into is None:
                merged[index // 2] = slot
            else:
                into.merge(slot)
        self.slots = merged
        self.width_s *= 2
        self._first, self._last = self._first // 2, self._last // 2

    def rows(self) -> list[dict]:
        """Per slot from the first to the last (empty ones kept): its start `t` and width `seconds`, calls OK
        and not, and p50/p99 of the OK calls (from the send, and p99 from the schedule in --rps runs)."""
        if not self.slots:
            return []
        rows = []
        for index in range(self._first, self._last + 1):
            slot = self.slots.get(index) or Slot()
            p50, p99 = slot.sent.percentiles(("50", "99"))
            rows.append({"t": index * self.width_s, "seconds": self.width_s, "ok": slot.ok, "not_ok": slot.not_ok,
                         "p50": p50, "p99": p99, "p99_from_schedule": slot.scheduled.percentiles(("99",))[0]})
        return rows
