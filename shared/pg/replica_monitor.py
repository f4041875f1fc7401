"""The background watch of each shard's two nodes: which one is the primary, and may the replica serve reads.

Every `check_ms` a thread per shard probes both nodes (`shared.pg.node_probe`). It
- elects the write node: the reachable node not in recovery on the newest timeline. A promoted replica is
  found this way, so writes move to it without a restart; a node still in recovery is never written to;
- measures the replica's lag in bytes (primary WAL position minus replayed position) and in seconds (since
  the monitor first saw the primary at a position the replica has not replayed; the primary's
  pg_stat_replication replay_lag when larger). An idle primary whose WAL the replica has replayed is no lag;
- decides whether the replica serves reads: reachable, in recovery, and within both limits. A replica
  over a limit gets no reads until it is back under it.
"""
from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import psycopg2

from shared.pg.login import PgLogin
from shared.pg.node_probe import PROBE_CALL, NodeProbe, lag_bytes, probe, unreachable
from shared.settings import ReplicaLimits
from shared.sharding import Shard
from shared.telemetry.shards import shard_seen

log = logging.getLogger(__name__)

HISTORY = 240  # primary positions kept for the lag in seconds (two minutes at the default 500 ms)


@dataclass(frozen=True)
class ReplicaView:
    """The monitor's latest verdict on one shard."""

    shard: str
    primary_dsn: str
    replica_dsn: str
    readable: bool
    reason: str                  # "ok", or why the replica gets no reads
    lag_bytes: int | None = None
    lag_s: float | None = None
    replayed_lsn: int = 0
    replay_paused: bool = False
    checked_at: float = 0.0      # time.monotonic() of the probe


class LagClock:
    """Lag in seconds from a short history of the primary's WAL positions: how long ago the primary first
    stood at a position the replica has still not replayed."""

    def __init__(self, size: int = HISTORY):
        self._samples: collections.deque[tuple[float, int]] = collections.deque(maxlen=size)

    def add(self, now: float, primary_lsn: int) -> None:
        if not self._samples or self._samples[-1][1] != primary_lsn:
            self._samples.append((now, primary_lsn))

    def seconds_behind(self, now: float, replayed_lsn: int) -> float:
        for at, position in self._samples:
            if position > replayed_lsn:
                return now - at
        return 0.0


def elect_primary(probes: list[NodeProbe], current: str) -> str:
    """The DSN writes go to: the reachable non-recovery node on the newest timeline; `current` when there
    is none (writes then fail UNAVAILABLE rather than go to a node in recovery)."""
    primaries = [p for p in probes if p.is_primary]
    if not primaries:
        return current
    return max(primaries, key=lambda p: (p.timeline or 0, p.dsn == current)).dsn


def judge(primary: NodeProbe, replica: NodeProbe, lag_s: float | None, limits: ReplicaLimits) -> tuple[bool, str]:
    """May the replica serve reads, and if not, why."""
    if not replica.reachable:
        return False, f"replica unreachable: {replica.error}"
    if not replica.in_recovery:
        return False, "the replica node is not in recovery (a second primary?); fenced from reads"
    if not replica.receiving:
        # Not streaming from the primary: a former primary back before its rewind still replays its own
        # timeline, whose positions mean other WAL than the primary's.
        return False, "the replica is not streaming from the primary"
    if primary.lsn is not None and replica.lsn is not None and replica.lsn > primary.lsn:
        return False, "the replica has replayed past the primary's position (another timeline); fenced from reads"
    behind = lag_bytes(primary, replica)
    if behind is not None and behind > limits.max_lag_bytes:
        return False, f"lag {behind} B over the limit of {limits.max_lag_bytes} B"
    if lag_s is not None and lag_s * 1000 > limits.max_lag_ms:
        return False, f"lag {lag_s:.3f} s over the limit of {limits.max_lag_ms} ms"
    return True, "ok"


class ShardWatch:
    """Probes one shard's nodes on its own thread and reports through the two callbacks."""

    def __init__(self, shard: Shard, limits: ReplicaLimits, *, on_view: Callable[[ReplicaView], None],
                 on_primary: Callable[[str, str, str], None], connect_timeout_s: float = 1.0,
                 login: PgLogin | None = None):
        self.shard = shard
        self._login: dict[str, Any] = login.params() if login else {}
        self.limits = limits
        self.on_view, self.on_primary = on_view, on_primary
        self.primary_dsn, self.replica_dsn = shard.primary_dsn, shard.replica_dsn
        self._connect_timeout = max(1, round(connect_timeout_s))
        self._conns: dict[str, psycopg2.extensions.connection] = {}
        self._clock = LagClock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"replica-monitor-{shard.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        """Probe now rather than at the next tick (a write just failed: maybe the primary moved)."""
        self._wake.set()

    def signal_stop(self) -> None:
        self._stopped.set()
        self._wake.set()

    def stop(self) -> None:
        self.signal_stop()
        self._thread.join(timeout=5)
        for conn in self._conns.values():
            conn.close()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self.check()
            except Exception:  # the watch must outlive any surprise; the next tick tries again
                log.exception("replica check failed", extra={"shard": self.shard.name})
            self._wake.wait(self.limits.check_ms / 1000)
            self._wake.clear()

    def _probe(self, dsn: str) -> NodeProbe:
        conn = self._conns.get(dsn)
        try:
            if conn is None or conn.closed:
                conn = psycopg2.connect(dsn, connect_timeout=self._connect_timeout,
                                        options="-c statement_timeout=1000", application_name="elearn-monitor",
                                        **self._login)
                conn.autocommit = True
                self._conns[dsn] = conn
            return probe(conn, dsn, PROBE_CALL)
        except psycopg2.Error as exc:
            if conn is not None:
                conn.close()
            self._conns.pop(dsn, None)
            return unreachable(dsn, exc)

    def check(self) -> ReplicaView:
        """One round: probe both nodes, follow a promotion, judge the replica, report."""
        nodes = [self._probe(self.primary_dsn)]
        if self.replica_dsn != self.primary_dsn:
            nodes.append(self._probe(self.replica_dsn))
        elected = elect_primary(nodes, self.primary_dsn)
        if elected != self.primary_dsn:
            old = self.primary_dsn
            self.primary_dsn, self.replica_dsn = elected, old
            self._clock = LagClock()
            nodes.reverse()
            log.warning("shard primary moved", extra={"shard": self.shard.name, "primary": _where(elected),
                                                      "replica": _where(old)})
            self.on_primary(self.shard.name, self.primary_dsn, self.replica_dsn)
        primary, replica = nodes[0], nodes[-1]
        now = time.monotonic()
        view = self._view(primary, replica, now)
        shard_seen(self.shard.name, primary_up=primary.is_primary, readable=view.readable, lag_bytes=view.lag_bytes,
                   lag_s=view.lag_s)
        self.on_view(view)
        return view

    def _view(self, primary: NodeProbe, replica: NodeProbe, now: float) -> ReplicaView:
        if self.replica_dsn == self.primary_dsn:
            return ReplicaView(self.shard.name, self.primary_dsn, self.replica_dsn, False, "no replica configured",
                               checked_at=now)
        behind = lag_bytes(primary, replica)
        lag_s = None
        if primary.is_primary and primary.lsn is not None:
            self._clock.add(now, primary.lsn)
        if behind is not None:
            lag_s = 0.0 if behind == 0 else max(self._clock.seconds_behind(now, replica.lsn or 0),
                                                primary.replay_lag_s)
        readable, reason = judge(primary, replica, lag_s, self.limits)
        # A replay position is news only from a replica that may serve reads: one that is not (restarting,
        # rewinding, on another timeline) may report positions of WAL the primary never wrote.
        return ReplicaView(self.shard.name, self.primary_dsn, self.replica_dsn, readable, reason, behind, lag_s,
                           (replica.lsn or 0) if readable else 0, replica.replay_paused, now)


def _where(dsn: str) -> str:
    parts = psycopg2.extensions.parse_dsn(dsn)
    return f"{parts.get('host', '')}:{parts.get('port', '5432')}"


class ReplicaMonitor:
    """A ShardWatch per shard; the latest view of each, and the hooks the pools react to."""

    def __init__(self, shards: Iterable[Shard], limits: ReplicaLimits, *, on_primary: Callable[[str, str, str], None],
                 on_view: Callable[[ReplicaView], None] = lambda _v: None, login: PgLogin | None = None):
        self._views: dict[str, ReplicaView] = {}
        self._on_view = on_view
        self._last_reason: dict[str, str] = {}
        self.watches = {s.name: ShardWatch(s, limits, on_view=self._record, on_primary=on_primary, login=login)
                        for s in shards}

    def _record(self, view: ReplicaView) -> None:
        previous = self._last_reason.get(view.shard)
        if previous is not None and previous != view.reason:
            if view.readable:
                log.warning("replica serves reads again", extra={"shard": view.shard})
            else:
                log.warning("replica gets no reads", extra={"shard": view.shard, "reason": view.reason})
        self._last_reason[view.shard] = view.reason
        self._views[view.shard] = view
        self._on_view(view)

    def start(self) -> None:
        """A first check of every shard before returning (so the first reads are routed on facts), then the
        background threads."""
        threads = [threading.Thread(target=w.check) for w in self.watches.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=5)
        for watch in self.watches.values():
            watch.start()

    def view(self, shard: str) -> ReplicaView | None:
        return self._views.get(shard)

    def poke(self, shard: str) -> None:
        self.watches[shard].poke()

    def stop(self) -> None:
        for watch in self.watches.values():
            watch.signal_stop()  # all at once, then wait for each
        for watch in self.watches.values():
            watch.stop()
