"""A one-line progress bar with live counts and rate on a terminal; silent when output is not a terminal."""
from __future__ import annotations

import sys
import threading
import time


class Progress:
    def __init__(self, total: int | None, duration_s: float | None, stream=sys.stderr, interval_s: float = 0.25):
        self.total, self.duration_s = total, duration_s
        self.stream = stream
        self.enabled = stream.isatty()
        self.interval_s = interval_s
        self.counts = {"success": 0, "expected_rejection": 0, "unexpected": 0}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._start = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)

    def start(self) -> None:
        if self.enabled:
            self._thread.start()

    def record(self, outcome: str) -> None:
        with self._lock:
            self.counts[outcome] += 1

    def line(self) -> str:
        with self._lock:
            ok, rejected, bad = self.counts["success"], self.counts["expected_rejection"], self.counts["unexpected"]
        done = ok + rejected + bad
        elapsed = max(time.perf_counter() - self._start, 1e-9)
        fraction = done / self.total if self.total else min(elapsed / (self.duration_s or 1), 1.0)
        bar = "#" * int(fraction * 30)
        target = f"/{self.total}" if self.total else f" in {elapsed:.0f}/{self.duration_s:.0f} s"
        return (f"[{bar:<30}] {done}{target} calls  {done / elapsed:6.0f}/s  ok {ok}  rejected as expected "
                f"{rejected}  unexpected {bad}")

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.stream.write("\r" + self.line())
            self.stream.flush()

    def finish(self) -> None:
        self._stop.set()
        if self.enabled:
            self.stream.write("\r" + self.line() + "\n")
            self.stream.flush()
