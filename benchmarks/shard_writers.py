"""Writer threads for fault tests and benchmarks: each calls `write` in a loop and records, with the times,
every acknowledged ID and every failure, so a run can tell when writes stopped and resumed and what was lost.
A call counts for "writes resumed after T" only when it began after T: one in flight at T proves nothing."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

import grpc


class Writers:
    def __init__(self, write: Callable[[], int], threads: int = 3, pause_s: float = 0.02):
        self.write, self.pause_s = write, pause_s
        self.acknowledged: list[tuple[float, float, int]] = []  # (time.monotonic() at the call, at the reply, ID)
        self.failures: list[tuple[float, str]] = []       # (time.monotonic(), status code name)
        self.details: list[str] = []                       # each failure's message, in the same order
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                written = self.write()
                self.acknowledged.append((began, time.monotonic(), written))
            except grpc.RpcError as exc:
                self.failures.append((time.monotonic(), exc.code().name))
                self.details.append(exc.details() or "")
                time.sleep(self.pause_s)

    @property
    def ids(self) -> list[int]:
        return [written for _began, _at, written in self.acknowledged]

    def first_ack_after(self, moment: float) -> float | None:
        """Seconds from `moment` to the reply of the first acknowledged write that began after it, or None."""
        after = [at for began, at, _id in self.acknowledged if began > moment]
        return min(after) - moment if after else None

    def wait_for_ack_after(self, moment: float, timeout_s: float) -> float | None:
        give_up = time.monotonic() + timeout_s
        while time.monotonic() < give_up:
            found = self.first_ack_after(moment)
            if found is not None:
                return found
            time.sleep(0.05)
        return None

    def longest_gap(self, since: float, until: float | None = None) -> float:
        """The longest time without an acknowledged write between `since` and `until` (default: now)."""
        until = time.monotonic() if until is None else until
        times = [since, *sorted(at for _began, at, _id in self.acknowledged if since < at < until), until]
        return max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0)

    def __enter__(self) -> Writers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
