"""Writes held while a shard has no writable node (a switchover or failover moving its leader), like Vitess's
buffering during a reparent: within a window of `limit_s` from the first failed connection of the outage (after
it, calls fail at once until a connection succeeds again: a dead leader that Patroni replaces only after its
20 s ttl costs fast failures, not calls stuck to their deadlines), within each call's deadline, and at most
`max_held` calls per shard, so a shard without a leader never holds every worker thread of the process."""
from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterable, Iterator

from shared import deadlines

log = logging.getLogger(__name__)

RETRY_PAUSE_S = 0.05  # between two tries to connect to the shard's writable node


class PrimaryHolds:
    """The holds of one process: at most `max_held` calls held per shard, each at most `limit_s`."""

    def __init__(self, shards: Iterable[str], limit_s: float, max_held: int):
        self.limit_s = limit_s
        self.max_held = max_held
        self._held = {shard: 0 for shard in shards}
        self._outage: dict[str, float] = {}  # shard → when its current outage was first seen
        self._lock = threading.Lock()
        self.longest_s = 0.0  # the longest hold that ended with a connection, for the logs and benchmarks

    def held(self, shard: str) -> contextlib.AbstractContextManager[Hold]:
        return _held(self, shard)

    def _outage_s(self, shard: str) -> float:
        """Seconds since the shard's current outage was first seen (0 when this call sees it first)."""
        now = time.monotonic()
        with self._lock:
            return now - self._outage.setdefault(shard, now)

    def reachable(self, shard: str) -> None:
        """A connection to the shard's writable node succeeded: its outage, if any, is over."""
        if shard in self._outage:
            with self._lock:
                self._outage.pop(shard, None)

    def _take(self, shard: str) -> bool:
        with self._lock:
            if self._held[shard] >= self.max_held:
                return False
            self._held[shard] += 1
            return True

    def _give_back(self, shard: str) -> None:
        with self._lock:
            self._held[shard] -= 1

    def _ended(self, shard: str, held_s: float) -> None:
        self.longest_s = max(self.longest_s, held_s)
        log.info("write held until the shard had a writable node", extra={"shard": shard,
                                                                           "held_ms": round(held_s * 1000)})


class Hold:
    """One call's hold: `wait` says whether to try again (after a short pause), `connected` ends it."""

    def __init__(self, holds: PrimaryHolds, shard: str):
        self.holds, self.shard = holds, shard
        self.began = time.monotonic()
        self._counted = False

    def wait(self, attempt_s: float) -> bool:
        """Pause and return True when another try (which may take `attempt_s`) fits the hold limit and the
        call's deadline and the shard has room for one more held call; else False (the caller fails)."""
        left = deadlines.remaining()
        if self.holds._outage_s(self.shard) + RETRY_PAUSE_S >= self.holds.limit_s:
            return False
        if left is not None and left < RETRY_PAUSE_S + attempt_s:
            return False
        if not self._counted:
            if not self.holds._take(self.shard):
                return False
            self._counted = True
        time.sleep(RETRY_PAUSE_S)
        return True

    def connected(self) -> None:
        self.holds.reachable(self.shard)
        if self._counted:
            self.release()
            self.holds._ended(self.shard, time.monotonic() - self.began)

    def release(self) -> None:
        if self._counted:
            self._counted = False
            self.holds._give_back(self.shard)


@contextlib.contextmanager
def _held(holds: PrimaryHolds, shard: str) -> Iterator[Hold]:
    hold = Hold(holds, shard)
    try:
        yield hold
    finally:
        hold.release()
