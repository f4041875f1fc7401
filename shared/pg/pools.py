"""PostgreSQL connection pools per (shard, role); driver errors become domain errors through `shared.pg.errors`.

Writes and anything inside a transaction go to a shard's primary through `ShardPools.write` (or
`committed_call`, for a procedure that commits by itself), which records the commit position in the call's
trace (the x-min-lsn token). Reads go through `ShardPools.read`, which picks the node by the call's read
policy (`shared.consistency`, `shared.pg.read_routing`) and the replica monitor's verdict, and falls back to the
primary while the replica cannot be reached. When the monitor sees the replica promoted, the pools swap roles:
writes follow without a restart. No code outside this module opens a PostgreSQL connection for a service.
"""
from __future__ import annotations

import contextlib
import enum
import functools
import logging
import select
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import psycopg2
import psycopg2.extensions

from shared import consistency, cpu_slots, deadlines
from shared.bulkhead import Entry, ShardGate, Watchdog
from shared.errors import COMMIT_UNCONFIRMED, ShardUnavailable, Unavailable
from shared.pg import errors as pg_errors
from shared.pg.holds import PrimaryHolds
from shared.pg.login import PgLogin
from shared.pg.lsn import parse_lsn
from shared.pg.read_routing import Route, route_read
from shared.pg.replica_monitor import ReplicaMonitor, ReplicaView
from shared.settings import ReplicaLimits, Settings
from shared.sharding import ShardMap
from shared.telemetry import shards as shard_metrics
from shared.telemetry.db import ObservedConnection, ObservedCursor

log = logging.getLogger(__name__)
T = TypeVar("T")

REPLICA_RETRY_AFTER_S = 2.0


class Role(str, enum.Enum):
    PRIMARY = "primary"
    REPLICA = "replica"


def translate(exc: psycopg2.Error, shard: str, role: Role) -> Exception:
    """The domain error for a driver error, from the one table in `shared.pg.errors` (else `exc` unchanged)."""
    return pg_errors.domain_error(exc, shard, role.value)


def _died_idle(conn: psycopg2.extensions.connection) -> bool:
    """Whether an idle connection's server has gone, checked without a round trip: an idle connection has
    nothing to read unless the server closed it (end of file) or sent its last words (a FATAL at shutdown)."""
    if conn.closed:
        return True
    try:
        readable, _, _ = select.select([conn], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class NotConnected(ShardUnavailable):
    """No connection to the node could be opened (refused, shutting down, or not the writable node): nothing of
    the call was sent, so trying it again cannot apply it twice."""


class NodePool:
    """A blocking pool of connections to one PostgreSQL node; connections are opened lazily."""

    def __init__(self, shard: str, role: Role, dsn: str, size: int, *, connect_timeout_s: float,
                 statement_timeout_ms: int, lock_timeout_ms: int, application_name: str,
                 login: PgLogin | None = None, gate: ShardGate | None = None, watchdog: Watchdog | None = None):
        self.shard, self.role, self.dsn = shard, role, dsn
        # The service's own role, given with each connect (no extra round trip); none: the DSN's user.
        self._login: dict[str, Any] = login.params() if login else {}
        self._gate, self._watchdog = gate, watchdog
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[psycopg2.extensions.connection] = []
        self._lock = threading.Lock()
        self._connect_timeout = max(1, round(connect_timeout_s))
        options = f"-c statement_timeout={statement_timeout_ms} -c lock_timeout={lock_timeout_ms}"
        if role is Role.REPLICA:
            options += " -c default_transaction_read_only=on"
        self._options = options
        # libpq refuses a write connection to a node in recovery (it reads the server's in_hot_standby at
        # start-up, no extra round trip), so a demoted or not-yet-promoted node is never written to.
        self._session_attrs = "read-write" if role is Role.PRIMARY else "any"
        self._application_name = application_name
        self.acquire_timeout_s = max(connect_timeout_s, statement_timeout_ms / 1000)
        self._metrics = shard_metrics.PoolMetrics(shard, role.value)

    @property
    def connect_timeout_s(self) -> float:
        return float(self._connect_timeout)

    def _connect(self) -> psycopg2.extensions.connection:
        try:
            conn: ObservedConnection = psycopg2.connect(
                self.dsn, connect_timeout=self._connect_timeout, options=self._options,
                application_name=self._application_name, target_session_attrs=self._session_attrs,
                connection_factory=ObservedConnection, keepalives=1, keepalives_idle=5, keepalives_interval=2,
                keepalives_count=2, **self._login)
        except psycopg2.Error as exc:
            # No session, so nothing of the call reached the node: it may be tried again on another.
            raise NotConnected(self.shard, self.role.value) from exc
        conn.observe(self.shard, self.role.value)
        return conn

    def discard_idle(self) -> None:
        """Close every idle connection (after one failed, the others are likely dead too)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg2.extensions.connection]:
        """A connection for one call, inside the shard's bulkhead and bounded by the call's deadline."""
        with self._gate.entered(self.role.value) if self._gate else contextlib.nullcontext(Entry()) as entry:
            with self._pooled() as conn:
                if self._watchdog is None:
                    yield conn
                    return
                pid = conn.get_backend_pid()
                with self._watchdog.watching(conn.fileno(), lambda: self._cancel_backend(pid)) as watch:
                    try:
                        yield conn
                    finally:
                        watch.finish()  # first: the watchdog must never touch a descriptor closed and reused
                        if watch.cancelled:  # a late cancel must not hit the next call's statement
                            conn.close()
                            entry.cut = True

    def _cancel_backend(self, pid: int) -> None:
        """Cancel the statement of backend `pid` from a connection of its own (run by the watchdog's helper
        thread: against a frozen node it waits out the connect timeout, never a caller)."""
        try:
            # The same role as the statement's: a role may cancel only its own sessions' statements.
            with contextlib.closing(psycopg2.connect(self.dsn, connect_timeout=self._connect_timeout,
                                                     application_name=self._application_name,
                                                     **self._login)) as conn:
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute("SELECT pg_cancel_backend(%s)", (pid,))
            log.warning("statement cancelled at the call's deadline", extra={"shard": self.shard, "pid": pid})
        except psycopg2.Error as exc:
            log.warning("could not cancel a statement", extra={"shard": self.shard, "error": str(exc).strip()})

    @contextlib.contextmanager
    def _pooled(self) -> Iterator[psycopg2.extensions.connection]:
        wait = self.acquire_timeout_s
        left = deadlines.remaining()
        if left is not None:
            wait = max(0.0, min(wait, left))
        with self._metrics.waiting_for_slot():
            acquired = self._slots.acquire(timeout=wait)
        if not acquired:
            self._metrics.timeouts.inc()
            raise Unavailable(f"no free connection to shard {self.shard} ({self.role.value})",
                              reason="POOL_EXHAUSTED", metadata={"shard": self.shard})
        conn = None
        self._metrics.in_use.inc()
        try:
            conn = self._checkout_idle()
            if conn is None:
                conn = self._connect()
            yield conn
        except (psycopg2.Error, ShardUnavailable) as exc:
            if isinstance(exc, ShardUnavailable) or pg_errors.lost_connection(exc):
                if conn is not None:
                    conn.close()
                self.discard_idle()  # after one failed, the others are likely dead too
            raise
        finally:
            if conn is not None and not conn.closed:
                self._return(conn)
            self._metrics.in_use.dec()
            self._slots.release()

    def _checkout_idle(self) -> psycopg2.extensions.connection | None:
        """An idle connection still alive, or None. One whose server went away while it sat idle (a node
        restarted, a leader demoted) is closed instead of costing the caller a failed call."""
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None or not _died_idle(conn):
                return conn
            conn.close()

    def _return(self, conn: psycopg2.extensions.connection) -> None:
        """Back to the idle list, clean; a connection that cannot be cleaned is closed instead."""
        if conn.status != psycopg2.extensions.STATUS_READY:
            try:
                conn.rollback()
            except psycopg2.Error:
                conn.close()
                return
        with self._lock:
            self._idle.append(conn)

    def close(self) -> None:
        self.discard_idle()


class ReadCursor(ObservedCursor):
    """A cursor that knows which node (primary or replica) served it."""

    role: Role = Role.REPLICA


SYNC_WAIT_CANCELLED = "canceling wait for synchronous replication"


def _one(cur: psycopg2.extensions.cursor) -> tuple[Any, ...]:
    """The row a statement that always returns one row returned."""
    row = cur.fetchone()
    assert row is not None, "the statement returned no row"
    return row


def _refuse_unconfirmed_commit(shard: str, conn: psycopg2.extensions.connection) -> None:
    """A commit whose wait for the synchronous replica was cancelled (the statement timeout, while the replica
    was away) is durable on the primary alone, and PostgreSQL reports it only as a WARNING. It is not
    acknowledged: the caller gets UNAVAILABLE (reason COMMIT_UNCONFIRMED, which the gateway does not retry:
    the retry would find the request_id's record and answer OK at once) and may retry with the same
    request_id once the replica is back."""
    notices = [n for n in conn.notices if SYNC_WAIT_CANCELLED in n]
    conn.notices.clear()
    if notices:
        log.error("commit not confirmed by the synchronous replica", extra={"shard": shard})
        raise ShardUnavailable(shard, Role.PRIMARY.value, "the commit reached the primary but its synchronous "
                               "replica did not confirm it in time; retry with the same request_id",
                               reason=COMMIT_UNCONFIRMED)


def _unconfirmed_if_lost(shard: str, exc: psycopg2.Error) -> None:
    """A connection lost (or cut at the deadline) while a COMMIT was on its way leaves the outcome unknown:
    UNAVAILABLE COMMIT_UNCONFIRMED, never a plain SHARD_UNAVAILABLE that would invite a blind retry."""
    if pg_errors.lost_connection(exc):
        log.error("commit outcome unknown: connection lost", extra={"shard": shard})
        raise ShardUnavailable(shard, Role.PRIMARY.value, "the commit's outcome is unknown; retry with the same "
                               "request_id", reason=COMMIT_UNCONFIRMED) from exc


def _commit(shard: str, conn: psycopg2.extensions.connection) -> None:
    try:
        with shard_metrics.commit(shard):
            conn.commit()
    except psycopg2.Error as exc:
        _unconfirmed_if_lost(shard, exc)
        raise


class ShardPools:
    """All node pools of the shard map; the only way services reach PostgreSQL."""

    def __init__(self, shard_map: ShardMap, *, size: int, connect_timeout_s: float, statement_timeout_ms: int,
                 lock_timeout_ms: int, application_name: str, limits: ReplicaLimits = ReplicaLimits(),
                 max_in_flight: int | None = None, stall_ms: int = 250, hold_ms: int = 0,
                 login: PgLogin | None = None, service: str = ""):
        self.shard_map = shard_map
        self.limits = limits
        # The service these pools work for: it names the cross-shard writes it starts (shared.pg.twophase).
        self.service = service
        self._login = login
        self._pool_options = functools.partial(
            NodePool, size=size, connect_timeout_s=connect_timeout_s, statement_timeout_ms=statement_timeout_ms,
            lock_timeout_ms=lock_timeout_ms, application_name=application_name, login=login)
        # One gate per shard, kept across promotions (the pools change, the shard's bound does not).
        self.gates = {shard.name: ShardGate(shard.name, max_in_flight, stall_ms / 1000)
                      for shard in shard_map.shards} if max_in_flight else {}
        self._watchdog = Watchdog()
        # Writes held while a shard has no writable node, within `hold_ms` of the outage's start and at most
        # half `max_in_flight` at once per shard (held calls keep worker threads: a shard without a leader must
        # not take the others').
        self.holds = PrimaryHolds(shard_map.names, hold_ms / 1000, max(1, (max_in_flight or size) // 2))
        self._pools: dict[tuple[str, Role], NodePool] = {}
        self._roles_lock = threading.Lock()
        # Told of each cross-shard write left prepared (`leave_in_doubt`): the process's recovery loop, if any.
        self.in_doubt_listener: Callable[[str, tuple[str, ...], bool | None], None] | None = None
        for shard in shard_map.shards:
            self._assign(shard.name, shard.primary_dsn, shard.replica_dsn)
        self._replica_down_until: dict[str, float] = {}
        self._replayed: dict[str, int] = {}  # highest LSN each replica is known to have replayed
        self.monitor: ReplicaMonitor | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, monitor: bool = True) -> ShardPools:
        """Pools for a service process, with the replica monitor running unless `monitor` is False."""
        pools = cls(settings.shard_map, size=settings.pool_size, connect_timeout_s=settings.connect_timeout_s,
                    statement_timeout_ms=settings.statement_timeout_ms, lock_timeout_ms=settings.lock_timeout_ms,
                    application_name=f"elearn-{settings.process}", limits=settings.replica_limits,
                    max_in_flight=min(settings.shard_max_in_flight, max(1, settings.max_workers - 1)),
                    stall_ms=settings.shard_stall_ms, hold_ms=settings.primary_hold_ms, login=settings.pg_login,
                    service=settings.process)
        if monitor:
            pools.start_monitor()
        return pools

    # ---- roles ---------------------------------------------------------------------------------
    def _assign(self, shard: str, primary_dsn: str, replica_dsn: str) -> None:
        gate = self.gates.get(shard)
        self._pools[(shard, Role.PRIMARY)] = self._pool_options(shard, Role.PRIMARY, primary_dsn, gate=gate,
                                                                watchdog=self._watchdog)
        self._pools[(shard, Role.REPLICA)] = self._pool_options(shard, Role.REPLICA, replica_dsn, gate=gate,
                                                                watchdog=self._watchdog)

    def promote(self, shard: str, primary_dsn: str, replica_dsn: str) -> None:
        """Writes of `shard` go to `primary_dsn` from now on (the monitor saw a promotion)."""
        with self._roles_lock:
            old = (self._pools[(shard, Role.PRIMARY)], self._pools[(shard, Role.REPLICA)])
            self._assign(shard, primary_dsn, replica_dsn)
            self._replayed.pop(shard, None)
        for pool in old:
            pool.close()

    def start_monitor(self) -> None:
        self.monitor = ReplicaMonitor(self.shard_map.shards, self.limits, on_primary=self.promote,
                                      on_view=self._seen, login=self._login)
        self.monitor.start()

    def _seen(self, view: ReplicaView) -> None:
        if not view.readable:
            # What the replica had replayed no longer holds: it may come back rewound, or on another timeline
            # whose positions run ahead of WAL the primary never wrote; a read would then pass a token it lacks.
            self._replayed.pop(view.shard, None)
            return
        self._note_replayed(view.shard, view.replayed_lsn)

    def _note_replayed(self, shard: str, position: int) -> None:
        if position > self._replayed.get(shard, 0):
            self._replayed[shard] = position

    def pool(self, shard: str, role: Role) -> NodePool:
        return self._pools[(shard, role)]

    # ---- writes --------------------------------------------------------------------------------
    def leave_in_doubt(self, gid: str, shards: list[str], *, decided: bool | None) -> None:
        """A cross-shard write left prepared on `shards`: its decision was made (True), never can be (False),
        or is unknown (None). The recovery loop then settles it at once, or looks again soon, instead of at
        its next periodic pass; meanwhile its locks (an email's directory row) hold other writers off."""
        if self.in_doubt_listener is not None:
            self.in_doubt_listener(gid, tuple(shards), decided)

    def record_commit(self, shard: str, conn: psycopg2.extensions.connection) -> None:
        """The shard's WAL position after a commit, into the call's token: a reader holding it sees the commit.

        pg_current_wal_insert_lsn() is past the commit record even with synchronous_commit off, where the
        flushed position (pg_current_wal_lsn) may still be behind it. The write is committed whatever
        happens here: a failure costs the token (the reader's replica miss is then confirmed on the
        primary), never the write's success."""
        _refuse_unconfirmed_commit(shard, conn)
        trace = consistency.trace()
        if trace is None:
            return
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT pg_current_wal_insert_lsn()::text")
                trace.committed(shard, parse_lsn(_one(cur)[0]))
        except psycopg2.Error as exc:
            log.warning("commit position unknown", extra={"shard": shard, "error": str(exc).strip()})

    def _write_failed(self, shard: str, exc: Exception) -> None:
        if isinstance(exc, ShardUnavailable) and self.monitor is not None:
            self.monitor.poke(shard)  # maybe the primary moved: look now, not at the next tick

    @contextlib.contextmanager
    def primary_connection(self, shard: str) -> Iterator[psycopg2.extensions.connection]:
        """A connection to the shard's writable node. While none can be opened (a switchover or failover is
        moving the leader) the call is held and tried again as the replica monitor finds the new leader, up
        to the hold limit and the call's deadline (`PrimaryHolds`); only a failure to connect is retried,
        since then nothing of the call was sent."""
        # The common case first, with no hold made: the writable node takes the connection at once.
        pool = self.pool(shard, Role.PRIMARY)
        first = pool.connection()
        try:
            conn = first.__enter__()
        except NotConnected as exc:
            failure: NotConnected | None = exc
        else:
            self.holds.reachable(shard)
            try:
                yield conn
            except BaseException:
                if not first.__exit__(*sys.exc_info()):
                    raise
            else:
                first.__exit__(None, None, None)
            return
        with self.holds.held(shard) as hold:
            while True:
                if failure is not None:
                    if self.monitor is not None:
                        self.monitor.poke(shard)
                    with cpu_slots.released():
                        waited = hold.wait(pool.connect_timeout_s)
                    if not waited:
                        raise failure
                    failure = None
                pool = self.pool(shard, Role.PRIMARY)  # the monitor may have swapped it since the last try
                stack = contextlib.ExitStack()
                try:
                    conn = stack.enter_context(pool.connection())
                except NotConnected as exc:
                    stack.close()
                    failure = exc
                    continue
                hold.connected()
                with stack:
                    yield conn
                return

    @contextlib.contextmanager
    def write(self, shard: str) -> Iterator[psycopg2.extensions.cursor]:
        """A cursor in one transaction on the shard's primary: committed on success, rolled back on error."""
        try:
            with self.primary_connection(shard) as conn:
                conn.autocommit = False
                try:
                    with conn.cursor() as cur:
                        yield cur
                    _commit(shard, conn)
                except BaseException:
                    if not conn.closed:
                        conn.rollback()
                    raise
                self.record_commit(shard, conn)
        except psycopg2.Error as exc:
            mapped = translate(exc, shard, Role.PRIMARY)
            self._write_failed(shard, mapped)
            raise mapped from exc
        except ShardUnavailable as exc:
            self._write_failed(shard, exc)
            raise

    def committed_call(self, shard: str, statement: str, params: tuple[object, ...]) -> tuple[Any, ...]:
        """One round trip for a write made by a procedure that commits by itself: `statement` CALLs it
        (outside any transaction block, so its COMMIT is allowed) and its last OUT parameter is the WAL
        insert position just after that COMMIT, which goes into the call's token with no second round trip.
        Returns the procedure's other OUT parameters. Errors the caller does not handle become domain errors."""
        try:
            with self.primary_connection(shard) as conn:
                conn.autocommit = True
                try:
                    with conn.cursor() as cur:
                        cur.execute(statement, params)
                        row = _one(cur)
                except psycopg2.Error as exc:  # the procedure commits by itself: it may have, before the loss
                    _unconfirmed_if_lost(shard, exc)
                    raise
                _refuse_unconfirmed_commit(shard, conn)
        except psycopg2.Error as exc:
            mapped = translate(exc, shard, Role.PRIMARY)
            self._write_failed(shard, mapped)
            if mapped is exc:
                raise
            raise mapped from exc
        except ShardUnavailable as exc:
            self._write_failed(shard, exc)
            raise
        trace = consistency.trace()
        if trace is not None:
            trace.committed(shard, parse_lsn(row[-1]))
        return row[:-1]

    # ---- reads ---------------------------------------------------------------------------------
    def _route(self, shard: str, primary: bool) -> Route:
        if not primary and self._replica_down_until.get(shard, 0.0) > time.monotonic():
            return Route.PRIMARY
        return route_read(consistency.policy(), shard, self.monitor.view(shard) if self.monitor else None,
                          replayed_lsn=self._replayed.get(shard, 0), now=time.monotonic(),
                          check_interval_s=self.limits.check_ms / 1000, primary_only=primary)

    def _has_replayed(self, conn: psycopg2.extensions.connection, shard: str, token: int) -> bool:
        """Whether the replica has replayed `token`, waiting up to session_wait_ms for it."""
        give_up = time.monotonic() + self.limits.session_wait_ms / 1000
        with conn.cursor() as cur:
            while True:
                cur.execute("SELECT pg_last_wal_replay_lsn()::text")
                replayed = _one(cur)[0]
                position = parse_lsn(replayed) if replayed else 0
                self._note_replayed(shard, position)
                if position >= token:
                    return True
                if replayed is None or time.monotonic() >= give_up:
                    return False  # NULL: not a replica at all
                time.sleep(0.002)

    @contextlib.contextmanager
    def _read_connection(self, shard: str, route: Route) -> Iterator[tuple[psycopg2.extensions.connection, Role]]:
        """A connection for a read and the role of its node; a replica that cannot be reached is skipped
        for a while, and one that has not replayed the session token in time hands the read to the primary."""
        with contextlib.ExitStack() as stack:
            role = Role.PRIMARY if route is Route.PRIMARY else Role.REPLICA
            try:
                conn = stack.enter_context(self.pool(shard, role).connection())
            except ShardUnavailable:
                if role is Role.PRIMARY:
                    raise
                log.warning("replica unreachable, reading from primary", extra={"shard": shard})
                self._replica_down_until[shard] = time.monotonic() + REPLICA_RETRY_AFTER_S
                role = Role.PRIMARY
                conn = stack.enter_context(self.pool(shard, role).connection())
            conn.autocommit = True
            if role is Role.REPLICA and route is Route.CHECK_REPLICA:
                if not self._has_replayed(conn, shard, consistency.policy().min_lsn[shard]):
                    stack.close()
                    role = Role.PRIMARY
                    conn = stack.enter_context(self.pool(shard, role).connection())
                    conn.autocommit = True
            yield conn, role

    @contextlib.contextmanager
    def read(self, shard: str, *, primary: bool = False) -> Iterator[ReadCursor]:
        """An autocommit cursor for reads on the node the call's read policy picks (`primary`: a read a
        write decision depends on, always the primary). The cursor's `role` says which node served it."""
        role = Role.PRIMARY if primary else Role.REPLICA
        try:
            with self._read_connection(shard, self._route(shard, primary)) as (conn, role):
                trace = consistency.trace()
                if trace is not None:
                    trace.read_from(shard, role.value)
                shard_metrics.read_served(shard, role.value)
                with conn.cursor(cursor_factory=ReadCursor) as cur:
                    cur.role = role
                    yield cur
        except psycopg2.Error as exc:
            if role is Role.REPLICA and pg_errors.lost_connection(exc):
                self._replica_down_until[shard] = time.monotonic() + REPLICA_RETRY_AFTER_S
            raise translate(exc, shard, role) from exc

    def read_one(self, shard: str, fetch: Callable[[psycopg2.extensions.cursor], T | None], *,
                 primary: bool = False) -> T | None:
        """`fetch(cursor)` on the node the read policy picks; a miss on the replica is confirmed on the
        primary (a client without a session token may ask for a row it has just created), and stands
        when the primary cannot be reached."""
        with self.read(shard, primary=primary) as cur:
            found = fetch(cur)
            confirm = found is None and cur.role is Role.REPLICA
        if confirm:
            try:
                with self.read(shard, primary=True) as cur:
                    found = fetch(cur)
            except ShardUnavailable:
                pass
        return found

    def close(self) -> None:
        if self.monitor is not None:
            self.monitor.stop()
        for pool in self._pools.values():
            pool.close()
