"""Per-shard bulkheads: a bound on one service's calls in flight on each shard, and a watchdog that ends a
call's wait on a shard before the call's deadline, so a stalled shard fails its own calls and no other's.

A shard's gate admits at most `limit` calls at once (all its nodes together); a call that finds it full
waits while the shard's calls keep finishing, within its deadline, and fails UNAVAILABLE (SHARD_BUSY,
naming the shard) at once when none has finished for a while, instead of taking one more worker thread.
A call the watchdog had to end is not progress: while the shard's calls only end that way, the gate stays
stalled, so the calls cut at their deadlines do not reopen a wait that every new call would sit out.
The watchdog cancels a statement still running when the call's deadline
nears (PostgreSQL ignores statement_timeout while a COMMIT waits for the synchronous standby) and, if the
node does not answer the cancel either (a frozen host), shuts the connection's socket so the driver returns.
"""
from __future__ import annotations

import contextlib
import contextvars
import heapq
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType

from shared import cpu_slots, deadlines
from shared.errors import ShardUnavailable

log = logging.getLogger(__name__)

SHARD_BUSY = "SHARD_BUSY"
NO_DEADLINE_LIMIT_S = 30.0  # the bound of a call that carries no deadline (a script, a background task)
MIN_MARGIN_S, MAX_MARGIN_S = 0.15, 1.0  # kept back before the deadline for the cancel and the reply
COALESCE_S = 0.01  # how late a watchdog timer may fire: far inside MIN_MARGIN_S / 2
NO_DEADLINE_WAIT_S = 5.0  # how long a call without a deadline may wait for a busy shard's gate
WAIT_SLICE_S = 0.05  # how often a waiting call looks whether the shard has stalled


class Entry:
    """One call's pass through a gate; `cut` once the watchdog ended its wait on the shard (not progress)."""

    __slots__ = ("cut",)

    def __init__(self) -> None:
        self.cut = False


# The gates this call holds, each with its pass: a call re-entering a gate it holds shares that pass.
_held: contextvars.ContextVar[Mapping[str, Entry]] = contextvars.ContextVar("shards_held", default=MappingProxyType({}))


class ShardGate:
    """At most `limit` calls of this process in flight on one shard; re-entered freely by a call holding it
    (a read confirming a miss on the primary, a write opening a second connection), so it cannot deadlock.

    A full gate whose calls keep finishing is only busy: a new call waits for a slot, within its deadline, as
    it would for a worker. A full gate where no call has finished for `stall_s` is stalled: new calls are
    refused at once, so they never pile up on the server's worker threads."""

    def __init__(self, shard: str, limit: int, stall_s: float):
        self.shard, self.limit, self.stall_s = shard, limit, stall_s
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        # The last call that finished on its own, or the moment the gate filled up after one did.
        self._progress = time.monotonic()
        self._cut_last = False  # the last call to leave was ended by the watchdog
        self.in_flight = 0
        self.refused = 0

    def stalled(self) -> bool:
        """Full, and no call has finished for `stall_s`: new calls are refused at once."""
        with self._lock:
            return self.in_flight >= self.limit and time.monotonic() - self._progress > self.stall_s

    def _admit(self) -> bool:
        left = deadlines.remaining()
        give_up = time.monotonic() + (NO_DEADLINE_WAIT_S if left is None else max(0.0, left - MIN_MARGIN_S))
        while not self._slots.acquire(timeout=max(0.0, min(WAIT_SLICE_S, give_up - time.monotonic()))):
            if self.stalled() or time.monotonic() >= give_up:
                return False
        return True

    @contextlib.contextmanager
    def entered(self, role: str) -> Iterator[Entry]:
        held = _held.get()
        if self.shard in held:
            yield held[self.shard]
            return
        with cpu_slots.released():  # the worker waits on the shard: another may run Python meanwhile
            yield from self._entered(role, held)

    def _entered(self, role: str, held: Mapping[str, Entry]) -> Iterator[Entry]:
        if not self._admit():
            with self._lock:
                self.refused += 1
            raise ShardUnavailable(self.shard, role, "no call on this shard is finishing; retry later",
                                   reason=SHARD_BUSY)
        with self._lock:
            self.in_flight += 1
            if self.in_flight == self.limit and not self._cut_last:
                self._progress = time.monotonic()
        entry = Entry()
        token = _held.set({**held, self.shard: entry})
        try:
            yield entry
        finally:
            _held.reset(token)
            with self._lock:
                self.in_flight -= 1
                self._cut_last = entry.cut
                if not entry.cut:
                    self._progress = time.monotonic()
            self._slots.release()


def margin(left_s: float) -> float:
    """How long before the deadline a call still running on a shard is cancelled: a quarter of its time,
    within [MIN_MARGIN_S, MAX_MARGIN_S]; the socket is shut half that margin later if the cancel went unheard."""
    return min(MAX_MARGIN_S, max(MIN_MARGIN_S, left_s / 4))


class Watch:
    """One call's hold on a connection: `cancelled` once the watchdog acted, so the connection is not reused
    (a cancel sent to a frozen node may land later, on another call's statement)."""

    def __init__(self, fileno: int, cancel: Callable[[], None]):
        self._fileno, self._cancel = fileno, cancel
        self._lock = threading.Lock()
        self.done = False
        self.cancelled = False
        self.cut = False

    def soft(self) -> None:
        with self._lock:
            if self.done:
                return
            self.cancelled = True
        threading.Thread(target=self._cancel, name="shard-cancel", daemon=True).start()

    def hard(self) -> None:
        with self._lock:
            if self.done:
                return
            self.cancelled = self.cut = True
            try:  # a duplicate of the descriptor: shutting it down ends the driver's blocked read at once
                with socket.socket(fileno=os.dup(self._fileno)) as sock:
                    sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def finish(self) -> None:
        with self._lock:
            self.done = True


class Watchdog:
    """One thread for every call's timers: the cancel at deadline - margin, the socket cut at half the margin."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def _at(self, when: float, action: Callable[[], None]) -> None:
        with self._wake:
            entry = (when, next(self._order), action)
            heapq.heappush(self._due, entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="shard-watchdog", daemon=True)
                self._thread.start()
            # The thread sleeps until the earliest timer, so only a new earliest one needs it awake: a call's
            # timers nearly always fall after those already set, and waking a thread for each database
            # statement cost more than the statement's own Python work.
            if self._due[0] is entry:
                self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._due or self._due[0][0] > time.monotonic():
                    # COALESCE_S late at most, so the timers due close together (most belong to calls that
                    # finished long ago) are handled in one wake-up, not one each.
                    self._wake.wait(None if not self._due else self._due[0][0] - time.monotonic() + COALESCE_S)
                _when, _n, action = heapq.heappop(self._due)
            try:
                action()
            except Exception:  # a timer's failure must not stop the others
                log.exception("shard watchdog action failed")

    @contextlib.contextmanager
    def watching(self, fileno: int, cancel: Callable[[], None]) -> Iterator[Watch]:
        """Bound the block by the call's deadline (else NO_DEADLINE_LIMIT_S)."""
        left = deadlines.remaining()
        left = NO_DEADLINE_LIMIT_S if left is None else max(left, 0.0)
        keep = margin(left)
        now = time.monotonic()
        watch = Watch(fileno, cancel)
        self._at(now + max(0.0, left - keep), watch.soft)
        self._at(now + max(0.0, left - keep / 2), watch.hard)
        try:
            yield watch
        finally:
            watch.finish()
