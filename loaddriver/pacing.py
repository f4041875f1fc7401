"""Pacing for a target rate: call k starts no earlier than its slot, with an optional linear ramp."""
from __future__ import annotations

import math
import threading
import time


class Pacer:
    """Hands out start times so the whole run (all workers) follows `rps`, ramping up over `ramp_s`.

    With a ramp the rate grows linearly from 0 to `rps`: call k starts at t with rps*t²/(2*ramp) = k while
    t < ramp, then at the constant rate. Without `rps` it never waits.
    """

    def __init__(self, rps: float, ramp_s: float = 0.0):
        self.rps = rps
        self.ramp_s = ramp_s
        self._next = 0
        self._lock = threading.Lock()
        self._start = time.perf_counter()

    def slot_time(self, k: int) -> float:
        if self.ramp_s <= 0:
            return k / self.rps
        ramp_calls = self.rps * self.ramp_s / 2
        if k < ramp_calls:
            return math.sqrt(2 * self.ramp_s * k / self.rps)
        return self.ramp_s + (k - ramp_calls) / self.rps

    def wait(self, stop: threading.Event) -> None:
        if not self.rps:
            return
        with self._lock:
            k = self._next
            self._next += 1
        delay = self._start + self.slot_time(k) - time.perf_counter()
        if delay > 0:
            stop.wait(delay)
