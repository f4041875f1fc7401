"""Bounded retries of a transaction that lost a race: a serialization failure (40001) or a deadlock (40P01).

PostgreSQL aborts one side of such a race; running the same transaction again is the documented remedy, so
the caller never sees it unless it keeps losing. The retried body must be safe to re-run: it writes only
through its cursor (its earlier attempt was rolled back); anything outside the database it must not repeat
(a card authorization) is done once per call by the caller and its answer reused.
"""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from shared import deadlines
from shared.pg.errors import DEADLOCK, SERIALIZATION_FAILURE

if TYPE_CHECKING:  # shared.pg.pools imports this module
    from shared.pg.pools import ShardPools

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRYABLE_SQLSTATES = frozenset({SERIALIZATION_FAILURE, DEADLOCK})
ATTEMPTS = 3
BASE_BACKOFF_S = 0.02
MIN_LEFT_S = 0.05  # what the next attempt needs at least, else the error goes to the caller now


def transient(exc: BaseException | None) -> bool:
    """Whether `exc`, or an error it was raised from (`raise ... from exc`), is a lost race worth retrying."""
    while exc is not None:
        if getattr(exc, "pgcode", None) in RETRYABLE_SQLSTATES:
            return True
        exc = exc.__cause__
    return False


def backoff(attempt: int, jitter: Callable[[], float] = random.random) -> float:
    """The pause after failed attempt `attempt` (1-based): doubling, jittered so the losers spread out."""
    return float(BASE_BACKOFF_S * 2 ** (attempt - 1) * (0.5 + jitter()))


def retrying(attempt: Callable[[], T], *, attempts: int = ATTEMPTS, sleep: Callable[[float], None] = time.sleep,
             jitter: Callable[[], float] = random.random) -> T:
    """`attempt()`, run again after a lost race, at most `attempts` times in all and within the call's deadline."""
    for n in range(1, attempts + 1):
        try:
            return attempt()
        except Exception as exc:
            if n == attempts or not transient(exc):
                raise
            pause = backoff(n, jitter)
            left = deadlines.remaining()
            if left is not None and left - pause < MIN_LEFT_S:
                raise
            log.debug("transaction retried", extra={"attempt": n, "pause_s": round(pause, 3)})
            sleep(pause)
    raise AssertionError("unreachable")


def write(pools: ShardPools, shard: str, body: Callable[[Any], T], **options: Any) -> T:
    """`body(cursor)` in one transaction on `shard`'s primary (`ShardPools.write`), retried after a lost race."""
    def attempt() -> T:
        with pools.write(shard) as cur:
            return body(cur)

    return retrying(attempt, **options)
