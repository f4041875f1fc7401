"""Pacing for a target rate: call k is due at its slot, with an optional linear ramp; the slot is what the
coordinated-omission-corrected latency is timed from."""
from __future__ import annotations

import math
import threading
import time


def slot_time(k: int, rps: float, ramp_s: float = 0.0) -> float:
    """Seconds after the start at which call k is due. With a ramp the rate grows linearly from 0 to `rps`:
    call k is due at t with rps*t²/(2*ramp) = k while t < ramp, then at the constant rate."""
    if ramp_s <= 0:
        return k / rps
    ramp_calls = rps * ramp_s / 2
    if k < ramp_calls:
        return math.sqrt(2 * ramp_s * k / rps)
    return ramp_s + (k - ramp_calls) / rps


def due(t: float, rps: float, ramp_s: float = 0.0) -> int:
    """How many calls are due by `t` seconds after the start (the slots at or before t)."""
    if t < 0 or not rps:
        return 0
    if ramp_s > 0 and t < ramp_s:
        k = math.floor(rps * t * t / (2 * ramp_s))
    else:
        k = math.floor(rps * ramp_s / 2 + (t - ramp_s) * rps)
    # Floating point may put the boundary slot one off; settle it with slot_time itself.
    while slot_time(k + 1, rps, ramp_s) <= t:
        k += 1
    while k >= 0 and slot_time(k, rps, ramp_s) > t:
        k -= 1
    return k + 1


class Pacer:
    """Hands out the slots of one schedule to every worker, so the whole run follows `rps`.

    A worker takes the next slot when it is free and waits for it; when the run is behind, the slot is
    already past and the call goes out at once, late. Without `rps` it never waits and has no schedule.
    `clock` is the time source (seconds), replaceable by a scripted one in tests; `start` is the clock time
    of slot 0 (now by default).
    """

    def __init__(self, rps: float, ramp_s: float = 0.0, clock=time.perf_counter, start: float | None = None):
        self.rps = rps
        self.ramp_s = ramp_s
        self.clock = clock
        self._next = 0
        self._lock = threading.Lock()
        self._start = clock() if start is None else start

    def slot_time(self, k: int) -> float:
        return slot_time(k, self.rps, self.ramp_s)

    def wait(self, stop: threading.Event) -> float | None:
        """Wait for this worker's next slot; returns the clock time the call was due, or None without rps."""
        if not self.rps:
            return None
        with self._lock:
            k = self._next
            self._next += 1
        scheduled = self._start + self.slot_time(k)
        delay = scheduled - self.clock()
        if delay > 0:
            stop.wait(delay)
        return scheduled
