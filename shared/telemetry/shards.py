"""Per-shard metrics the pools and the replica monitor report: pool use, reads by role, commit time,
replica lag, whether the shard has a primary, and prepared cross-shard transactions still in doubt."""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from shared.telemetry.metrics import (
    COMMIT_SECONDS,
    IN_DOUBT,
    POOL_IN_USE,
    POOL_TIMEOUTS,
    POOL_WAITING,
    PRIMARY_UP,
    READS,
    REPLICA_LAG_BYTES,
    REPLICA_LAG_SECONDS,
    REPLICA_READABLE,
)

_reads: dict[tuple[str, str], Any] = {}
_commits: dict[str, Any] = {}


class PoolMetrics:
    """The gauges of one node pool, bound once."""

    def __init__(self, shard: str, role: str) -> None:
        self.in_use = POOL_IN_USE.labels(shard, role)
        self.waiting = POOL_WAITING.labels(shard, role)
        self.timeouts = POOL_TIMEOUTS.labels(shard, role)

    @contextlib.contextmanager
    def waiting_for_slot(self) -> Iterator[None]:
        self.waiting.inc()
        try:
            yield
        finally:
            self.waiting.dec()


def read_served(shard: str, role: str) -> None:
    child = _reads.get((shard, role))
    if child is None:
        child = _reads.setdefault((shard, role), READS.labels(shard, role))
    child.inc()


@contextlib.contextmanager
def commit(shard: str) -> Iterator[None]:
    """Times a COMMIT (with synchronous replication, mostly the wait for the standby's flush)."""
    child = _commits.get(shard)
    if child is None:
        child = _commits.setdefault(shard, COMMIT_SECONDS.labels(shard))
    begin = time.perf_counter()
    try:
        yield
    finally:
        child.observe(time.perf_counter() - begin)


def shard_seen(shard: str, *, primary_up: bool, readable: bool, lag_bytes: int | None, lag_s: float | None) -> None:
    """One round of the replica monitor. An unknown lag (a node unreachable) leaves the last figure."""
    PRIMARY_UP.labels(shard).set(1 if primary_up else 0)
    REPLICA_READABLE.labels(shard).set(1 if readable else 0)
    if lag_bytes is not None:
        REPLICA_LAG_BYTES.labels(shard).set(lag_bytes)
    if lag_s is not None:
        REPLICA_LAG_SECONDS.labels(shard).set(lag_s)


def in_doubt(shard: str, count: int) -> None:
    IN_DOUBT.labels(shard).set(count)
