"""A background loop that resolves in-doubt cross-shard transactions: a full pass at start-up and then
periodically, and at once for each write this process left prepared (`ShardPools.leave_in_doubt`).

A write whose decision is known (made, or impossible because no COMMIT reached the home shard) is settled
within a fraction of a second, so its locks do not hold other writers off until the next periodic pass. A
write whose home commit's outcome is unknown is settled by full passes soon after and once it is old enough
for a pass to roll it back (`twophase.IN_DOUBT_AFTER_S`).
"""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field

from shared.errors import DomainError
from shared.pg.pools import ShardPools
from shared.pg.twophase import IN_DOUBT_AFTER_S, recover_in_doubt, settle

log = logging.getLogger(__name__)

SETTLE_AFTER_S = 0.2  # a known outcome is settled this soon (the coordinator's own connection may be closing)
SETTLE_ATTEMPTS = 5  # then left to the periodic passes; each attempt waits twice as long as the last
UNKNOWN_LOOKS_S = (2.0, 10.0, IN_DOUBT_AFTER_S + 1.0)  # full passes after a write of unknown outcome
PASS_COALESCE_S = 1.0  # full passes asked for closer together than this are one


@dataclass(order=True)
class _Settlement:
    due: float
    order: int
    gid: str = field(compare=False)
    shard: str = field(compare=False)
    decided: bool | None = field(compare=False)  # None: a full pass, not one gid
    attempt: int = field(default=0, compare=False)


class RecoveryLoop:
    def __init__(self, pools: ShardPools, interval_s: float = 60.0):
        self.pools = pools
        self.interval_s = interval_s
        self._due: list[_Settlement] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="tpc-recovery", daemon=True)
        pools.in_doubt_listener = self.settle_soon

    def start(self) -> None:
        self._thread.start()

    def settle_soon(self, gid: str, shards: tuple[str, ...], decided: bool | None) -> None:
        """Called by the write that left `gid` prepared on `shards` (never blocks it)."""
        now = time.monotonic()
        with self._wake:
            if decided is None:
                passes = [item.due for item in self._due if item.decided is None]
                for after in UNKNOWN_LOOKS_S:
                    # One pass serves every write left in doubt about then: a shard that froze leaves many.
                    if not any(abs(due - (now + after)) < PASS_COALESCE_S for due in passes):
                        heapq.heappush(self._due, _Settlement(now + after, next(self._order), gid, "", None))
            else:
                for shard in shards:
                    heapq.heappush(self._due, _Settlement(now + SETTLE_AFTER_S, next(self._order), gid, shard, decided))
            self._wake.notify()

    def _run(self) -> None:
        next_pass = time.monotonic()
        while True:
            with self._wake:
                while not self._stopped and time.monotonic() < min(next_pass, self._next_due()):
                    self._wake.wait(min(next_pass, self._next_due()) - time.monotonic())
                if self._stopped:
                    return
                now = time.monotonic()
                ready = []
                while self._due and self._due[0].due <= now:
                    ready.append(heapq.heappop(self._due))
            if now >= next_pass or any(item.decided is None for item in ready):
                self._pass()
                next_pass = time.monotonic() + self.interval_s
            for item in ready:
                if item.decided is not None:
                    self._settle(item)

    def _next_due(self) -> float:
        return self._due[0].due if self._due else float("inf")

    def _pass(self) -> None:
        try:
            recover_in_doubt(self.pools)
        except Exception:  # a recovery pass must never kill the service
            log.exception("in-doubt recovery pass failed")

    def _settle(self, item: _Settlement) -> None:
        assert item.decided is not None
        try:
            settle(self.pools, item.shard, item.gid, decided=item.decided)
        except DomainError as exc:
            if item.attempt + 1 >= SETTLE_ATTEMPTS:
                log.warning("in-doubt transaction left to the periodic pass",
                            extra={"gid": item.gid, "shard": item.shard, "error": str(exc)})
                return
            with self._wake:
                heapq.heappush(self._due, _Settlement(
                    time.monotonic() + SETTLE_AFTER_S * 2 ** (item.attempt + 1), next(self._order), item.gid,
                    item.shard, item.decided, item.attempt + 1))
        except Exception:  # never kill the loop
            log.exception("settling an in-doubt transaction failed", extra={"gid": item.gid, "shard": item.shard})

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
