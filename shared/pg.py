"""PostgreSQL connection pools per (shard, role), and the translation of driver errors into domain errors.

Writes and anything inside a transaction go to a shard's primary through `ShardPools.write`; reads ask
for the replica explicitly through `ShardPools.read`, which falls back to the primary while the replica
cannot be reached. No code outside this module opens a PostgreSQL connection for a service.
"""
from __future__ import annotations

import contextlib
import enum
import logging
import threading
import time
from typing import Callable, Iterator, TypeVar

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from shared.errors import Aborted, ShardUnavailable, Unavailable
from shared.sharding import ShardMap

log = logging.getLogger(__name__)
T = TypeVar("T")

REPLICA_RETRY_AFTER_S = 2.0


class Role(str, enum.Enum):
    PRIMARY = "primary"
    REPLICA = "replica"


def translate(exc: psycopg2.Error, shard: str, role: Role) -> Exception:
    """The domain error for a driver error that no store handled itself."""
    if isinstance(exc, (psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected,
                        psycopg2.errors.SerializationFailure)):
        return Aborted(f"concurrent update on shard {shard}, retry: {exc.pgerror or exc}".strip(),
                       reason="CONCURRENT_UPDATE", metadata={"shard": shard})
    if isinstance(exc, psycopg2.errors.QueryCanceled):
        return Unavailable(f"shard {shard} ({role.value}) did not answer in time",
                           reason="SHARD_TIMEOUT", metadata={"shard": shard, "role": role.value})
    if isinstance(exc, psycopg2.errors.ReadOnlySqlTransaction):
        return ShardUnavailable(shard, role.value, "the node is read-only (in recovery); no primary to write to")
    if _lost_connection(exc):
        return ShardUnavailable(shard, role.value, str(exc).strip().splitlines()[0] if str(exc).strip() else "")
    return exc


def _lost_connection(exc: psycopg2.Error) -> bool:
    """A failure of the node or the connection, not of the statement.

    psycopg2 files SQLSTATE classes 53 to 58 under OperationalError too (55000, object not in prerequisite
    state, is a rule the schema raises), so the class alone is not enough: a server-sent error counts only
    when it is a connection exception (08), out of resources (53) or an operator shutdown (57P).
    """
    if isinstance(exc, psycopg2.InterfaceError):
        return True
    if not isinstance(exc, psycopg2.OperationalError):
        return False
    code = exc.pgcode or ""
    return not code or code.startswith(("08", "53", "57P"))


class NodePool:
    """A blocking pool of connections to one PostgreSQL node; connections are opened lazily."""

    def __init__(self, shard: str, role: Role, dsn: str, size: int, *, connect_timeout_s: float,
                 statement_timeout_ms: int, lock_timeout_ms: int, application_name: str):
        self.shard, self.role, self.dsn = shard, role, dsn
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[psycopg2.extensions.connection] = []
        self._lock = threading.Lock()
        self._connect_timeout = max(1, round(connect_timeout_s))
        options = f"-c statement_timeout={statement_timeout_ms} -c lock_timeout={lock_timeout_ms}"
        if role is Role.REPLICA:
            options += " -c default_transaction_read_only=on"
        self._options = options
        self._application_name = application_name
        self.acquire_timeout_s = max(connect_timeout_s, statement_timeout_ms / 1000)

    def _connect(self) -> psycopg2.extensions.connection:
        try:
            return psycopg2.connect(self.dsn, connect_timeout=self._connect_timeout, options=self._options,
                                    application_name=self._application_name,
                                    keepalives=1, keepalives_idle=5, keepalives_interval=2, keepalives_count=2)
        except psycopg2.Error as exc:
            raise translate(exc, self.shard, self.role) from exc

    def discard_idle(self) -> None:
        """Close every idle connection (after one failed, the others are likely dead too)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg2.extensions.connection]:
        if not self._slots.acquire(timeout=self.acquire_timeout_s):
            raise Unavailable(f"no free connection to shard {self.shard} ({self.role.value})",
                              reason="POOL_EXHAUSTED", metadata={"shard": self.shard})
        conn = None
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = self._connect()
            yield conn
        except (psycopg2.Error, ShardUnavailable) as exc:
            if isinstance(exc, ShardUnavailable) or _lost_connection(exc):
                if conn is not None:
                    conn.close()
                self.discard_idle()  # after one failed, the others are likely dead too
            raise
        finally:
            if conn is not None and not conn.closed:
                self._return(conn)
            self._slots.release()

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


class ReadCursor(psycopg2.extensions.cursor):
    """A cursor that knows which node (primary or replica) served it."""

    role: Role = Role.REPLICA


class ShardPools:
    """All node pools of the shard map; the only way services reach PostgreSQL."""

    def __init__(self, shard_map: ShardMap, *, size: int, connect_timeout_s: float, statement_timeout_ms: int,
                 lock_timeout_ms: int, application_name: str):
        self.shard_map = shard_map
        self._pools: dict[tuple[str, Role], NodePool] = {}
        for shard in shard_map.shards:
            for role, dsn in ((Role.PRIMARY, shard.primary_dsn), (Role.REPLICA, shard.replica_dsn)):
                self._pools[(shard.name, role)] = NodePool(
                    shard.name, role, dsn, size, connect_timeout_s=connect_timeout_s,
                    statement_timeout_ms=statement_timeout_ms, lock_timeout_ms=lock_timeout_ms,
                    application_name=application_name)
        self._replica_down_until: dict[str, float] = {}

    @classmethod
    def from_settings(cls, settings) -> "ShardPools":
        return cls(settings.shard_map, size=settings.pool_size, connect_timeout_s=settings.connect_timeout_s,
                   statement_timeout_ms=settings.statement_timeout_ms, lock_timeout_ms=settings.lock_timeout_ms,
                   application_name=f"elearn-{settings.process}")

    def pool(self, shard: str, role: Role) -> NodePool:
        return self._pools[(shard, role)]

    @contextlib.contextmanager
    def write(self, shard: str) -> Iterator[psycopg2.extensions.cursor]:
        """A cursor in one transaction on the shard's primary: committed on success, rolled back on error."""
        pool = self.pool(shard, Role.PRIMARY)
        try:
            with pool.connection() as conn:
                conn.autocommit = False
                try:
                    with conn.cursor() as cur:
                        yield cur
                    conn.commit()
                except BaseException:
                    if not conn.closed:
                        conn.rollback()
                    raise
        except psycopg2.Error as exc:
            raise translate(exc, shard, Role.PRIMARY) from exc

    @contextlib.contextmanager
    def autocommit(self, shard: str) -> Iterator[psycopg2.extensions.cursor]:
        """A cursor on the shard's primary where each statement commits by itself: one round trip for a
        write that is a single statement (or a single function call). Errors the caller does not handle
        become domain errors."""
        try:
            with self.pool(shard, Role.PRIMARY).connection() as conn:
                conn.autocommit = True
                with conn.cursor() as cur:
                    yield cur
        except psycopg2.Error as exc:
            mapped = translate(exc, shard, Role.PRIMARY)
            if mapped is exc:
                raise
            raise mapped from exc

    def _read_role(self, shard: str, primary: bool) -> Role:
        if primary or self._replica_down_until.get(shard, 0.0) > time.monotonic():
            return Role.PRIMARY
        return Role.REPLICA

    @contextlib.contextmanager
    def _read_connection(self, shard: str, role: Role):
        """A connection for a read; a replica that cannot be reached is skipped for a while."""
        with contextlib.ExitStack() as stack:
            try:
                conn = stack.enter_context(self.pool(shard, role).connection())
            except ShardUnavailable:
                if role is Role.PRIMARY:
                    raise
                log.warning("replica unreachable, reading from primary", extra={"shard": shard})
                self._replica_down_until[shard] = time.monotonic() + REPLICA_RETRY_AFTER_S
                role = Role.PRIMARY
                conn = stack.enter_context(self.pool(shard, role).connection())
            yield conn, role

    @contextlib.contextmanager
    def read(self, shard: str, *, primary: bool = False) -> Iterator["ReadCursor"]:
        """An autocommit cursor for reads: the replica unless `primary` or the replica is unreachable.

        The cursor's `role` says which node served it.
        """
        role = self._read_role(shard, primary)
        try:
            with self._read_connection(shard, role) as (conn, role):
                conn.autocommit = True
                with conn.cursor(cursor_factory=ReadCursor) as cur:
                    cur.role = role
                    yield cur
        except psycopg2.Error as exc:
            if role is Role.REPLICA and _lost_connection(exc):
                self._replica_down_until[shard] = time.monotonic() + REPLICA_RETRY_AFTER_S
            raise translate(exc, shard, role) from exc

    def read_one(self, shard: str, fetch: Callable[[psycopg2.extensions.cursor], T | None], *,
                 primary: bool = False) -> T | None:
        """`fetch(cursor)` on the replica (unless `primary`); a miss there is confirmed on the primary, so a
        row a client has just created is never reported missing because the replica lags."""
        with self.read(shard, primary=primary) as cur:
            found = fetch(cur)
            confirm = found is None and cur.role is Role.REPLICA
        if confirm:
            with self.read(shard, primary=True) as cur:
                found = fetch(cur)
        return found

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
