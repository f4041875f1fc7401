"""Failed sign-ins counted per account and per caller in a sliding window; past the limit, sign-in waits.

Counted by the email as typed (normalised), whether or not an account has it, so the limit reveals nothing.
Kept in this process's memory: each users replica limits on its own (a limit per replica, not a global one).
"""
from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from shared.errors import TooManyAttempts

WINDOW_S = 300.0
PER_ACCOUNT = 5
PER_CALLER = 50


class FailedLogins:
    def __init__(self, *, window_s: float = WINDOW_S, per_account: int = PER_ACCOUNT, per_caller: int = PER_CALLER,
                 clock: Callable[[], float] = time.monotonic):
        self.window_s = window_s
        self.limits = {"account": per_account, "caller": per_caller}
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures[key]
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def check(self, account: str, caller: str) -> None:
        """Raises TooManyAttempts while the account or the caller is over its limit of failures."""
        now = self.clock()
        with self._lock:
            for kind, value in (("account", account), ("caller", caller)):
                times = self._recent((kind, value), now)
                if len(times) >= self.limits[kind]:
                    wait = max(1, int(self.window_s - (now - times[0])))
                    raise TooManyAttempts(f"too many failed sign-ins; try again in {wait} s",
                                          metadata={"retry_after_s": str(wait)})

    def failed(self, account: str, caller: str) -> None:
        now = self.clock()
        with self._lock:
            for key in (("account", account), ("caller", caller)):
                self._recent(key, now).append(now)
            if len(self._failures) > 100_000:  # forget idle keys so a flood of emails cannot grow it forever
                for stale in [k for k, v in self._failures.items() if not v or now - v[-1] > self.window_s]:
                    del self._failures[stale]
