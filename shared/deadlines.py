"""The caller's deadline, carried from the gRPC edge to the storage drivers.

The server bootstrap records each call's deadline in a context variable (`shared.server.DeadlineInterceptor`),
so a store can bound its driver calls by what the caller is still waiting for without knowing about gRPC.
"""
from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)

MIN_BUDGET_S = 0.01


@contextlib.contextmanager
def within(seconds: float | None) -> Iterator[None]:
    """Run the block under a deadline `seconds` from now (None: no deadline)."""
    token = _deadline.set(None if seconds is None else time.monotonic() + max(seconds, 0.0))
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left before the current call's deadline, or None when it has none."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def budget(limit_s: float) -> float:
    """How long one unit of work may take: `limit_s`, or less so that its failure still reaches the caller
    before the caller's deadline. A third of the time left, at most 1.5 s, is kept back: drivers notice an
    expired budget only at their next check (pymongo's server selection wakes every half second), and the
    reply needs time to travel."""
    left = remaining()
    if left is None:
        return limit_s
    return max(MIN_BUDGET_S, min(limit_s, left - min(1.5, left / 3)))
