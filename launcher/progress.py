"""A one-line progress counter for long commands: redrawn in place on a terminal, silent otherwise."""
from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO = sys.stderr, enabled: bool | None = None):
        self.stream = stream
        self.enabled = stream.isatty() if enabled is None else enabled
        self._lock = threading.Lock()
        self._label, self._done, self._total, self._began, self._drawn = "", 0, 0, 0.0, 0.0

    def start(self, label: str, total: int) -> None:
        with self._lock:
            self._label, self._done, self._total, self._began = label, 0, total, time.monotonic()
            self._draw(force=True)

    def step(self, n: int = 1) -> None:
        with self._lock:
            self._done += n
            self._draw(force=self._done >= self._total)

    def finish(self) -> None:
        with self._lock:
            if self.enabled:
                self._draw(force=True)
                self.stream.write(f"  {time.monotonic() - self._began:.1f} s\n")
                self.stream.flush()

    def _draw(self, force: bool) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._drawn < 0.1):
            return
        self._drawn = now
        self.stream.write(f"\r  {self._label:<18} {self._done:>6}/{self._total:<6}")
        self.stream.flush()
