"""Writes that span shards and commit on all of them or none: two-phase commit with PREPARE TRANSACTION.

The home shard's ordinary transaction is the commit point. Every other shard's work is PREPAREd first;
then the home transaction records the decision (a row in tpc_decisions) and commits; then COMMIT PREPARED
runs on the others. A crash between the steps leaves prepared transactions in doubt: `recover_in_doubt`
commits those whose decision row exists and rolls back those old enough to have no live coordinator.

Only the role that prepared a transaction (or a superuser) may finish it, and each service connects as its
own role: a write's gid names its service, elearn:<service>:<home shard>:<hex>, and each service's recovery
finishes only its own. Gids of the older form elearn:<home shard>:<hex> were prepared by the admin role;
recovery run as the admin (pools with no service, as `elearn migrate` runs it) finishes those.
"""
from __future__ import annotations

import contextlib
import logging
import time
import uuid
import zlib
from collections.abc import Iterator
from types import TracebackType
from typing import Any, NoReturn

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from shared import cpu_slots, deadlines
from shared.errors import COMMIT_UNCONFIRMED, DomainError, ShardUnavailable
from shared.pg.errors import lost_connection
from shared.pg.pools import Role, ShardPools, translate
from shared.telemetry import shards as shard_metrics
from shared.telemetry.db import ObservedCursor

log = logging.getLogger(__name__)

GID_PREFIX = "elearn"
IN_DOUBT_AFTER_S = 30.0
FORGET_DECISIONS_AFTER_S = 3600.0
# After the home session was lost during COMMIT, how many times the decision is read (a read whose own session
# is lost while the leader moves is tried again), and the pause between reads.
DECISION_READS = 3
DECISION_RETRY_S = 0.2
RECOVERY_LOCK = 0x656C6561  # with a number made from the service name: its recovery pass lock on a shard
NAME = r"[A-Za-z0-9_-]+"


def gid_pattern(service: str) -> str:
    """The regular expression of the gids `service` prepares; "" (the admin): the gids of the older form."""
    return rf"^{GID_PREFIX}:{service}:{NAME}:[0-9a-f]+$" if service else rf"^{GID_PREFIX}:{NAME}:[0-9a-f]+$"


def recovery_lock(service: str) -> tuple[int, int]:
    """The two keys of `service`'s recovery advisory lock."""
    return RECOVERY_LOCK, zlib.crc32(service.encode()) & 0x7FFFFFFF


def home_of(gid: str) -> str:
    """The home shard a gid names, in either form: the part before the hex."""
    return gid.split(":")[-2]


class ShardCursor(ObservedCursor):
    """A cursor that turns driver errors into domain errors naming its shard (`shared.pg.errors`' table)."""

    shard = ""

    def execute(self, query: Any, vars: Any = None) -> None:
        try:
            return super().execute(query, vars)
        except psycopg2.Error as exc:
            mapped = translate(exc, self.shard, Role.PRIMARY)
            if mapped is exc:
                raise
            raise mapped from exc


class CrossShardWrite:
    """Collects one open transaction per shard; `commit()` makes them all durable or none."""

    def __init__(self, pools: ShardPools, home: str):
        self.pools = pools
        self.home = home
        owner = f"{pools.service}:" if pools.service else ""
        self.gid = f"{GID_PREFIX}:{owner}{home}:{uuid.uuid4().hex}"
        self._stack = contextlib.ExitStack()
        self._conns: dict[str, psycopg2.extensions.connection] = {}
        self._prepared: list[str] = []
        self._done = False
        self._unknown = False  # the home commit's outcome could not be learnt: recovery settles the others

    def cursor(self, shard: str) -> psycopg2.extensions.cursor:
        """A cursor inside this write's transaction on `shard`'s primary."""
        conn = self._conns.get(shard)
        if conn is None:
            try:
                # Held while the shard's leader moves, like every write (ShardPools.primary_connection).
                conn = self._stack.enter_context(self.pools.primary_connection(shard))
                conn.autocommit = False
                if shard != self.home:
                    conn.tpc_begin(self.gid)
            except psycopg2.Error as exc:
                raise translate(exc, shard, Role.PRIMARY) from exc
            self._conns[shard] = conn
        cur = conn.cursor(cursor_factory=ShardCursor)
        cur.shard = shard
        return cur

    def commit(self) -> None:
        others = [s for s in self._conns if s != self.home]
        current = self.home
        try:
            for shard in others:
                current = shard
                self._conns[shard].tpc_prepare()
                self._prepared.append(shard)
            current = self.home
            home = self._conns.get(self.home) or self._open_home()
            if others:
                with home.cursor() as cur:
                    cur.execute("INSERT INTO tpc_decisions (gid) VALUES (%s)", (self.gid,))
        except psycopg2.Error as exc:
            raise translate(exc, current, Role.PRIMARY) from exc
        record: psycopg2.extensions.connection | None = home  # where the home commit's position is read
        node = (home.info.host, home.info.port, home.get_backend_pid())
        try:
            with shard_metrics.commit(self.home):  # the decision's commit: the wait for the standby
                home.commit()
        except psycopg2.Error as exc:
            if not (self._prepared and lost_connection(exc)):
                raise translate(exc, self.home, Role.PRIMARY) from exc
            decided = self._decision_after(node)
            if decided is False:  # never committed: the others roll back (in __exit__), and a retry is safe
                raise ShardUnavailable(self.home, Role.PRIMARY.value) from exc
            if decided is None:
                self._outcome_unknown(exc)
            record = None  # decided: the commit went through before the server ended the session
        self._done = True
        unfinished = []
        for shard in others:
            try:
                with shard_metrics.commit(shard):
                    self._conns[shard].tpc_commit()
                self.pools.record_commit(shard, self._conns[shard])
            except psycopg2.Error:
                unfinished.append(shard)
        if unfinished:  # decided and durable on the home shard: recovery finishes these commits at once
            log.warning("commit prepared failed; left for recovery", extra={"gid": self.gid, "shards": unfinished})
            self.pools.leave_in_doubt(self.gid, unfinished, decided=True)
        if record is not None:
            self.pools.record_commit(self.home, record)

    def _decision_after(self, node: tuple[str, int, int]) -> bool | None:
        """After the session to the home node (host, port, backend pid) was lost during COMMIT: whether the
        decision is durable, when that can be known. Read on the shard's writable node (held while the leader
        moves, within the call's deadline): on another node (a switchover or failover promoted it) the decision
        row is the whole answer, since what the old node did not replicate is rewound away; on the same node only
        once the old backend is gone (a shutdown ended it), since a backend still waiting may yet commit."""
        host, port, pid = node
        for attempt in range(DECISION_READS):
            try:
                with self.pools.primary_connection(self.home) as conn:
                    conn.autocommit = True
                    with conn.cursor() as cur:
                        cur.execute("SELECT EXISTS (SELECT 1 FROM tpc_decisions WHERE gid = %s), "
                                    "EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)", (self.gid, pid))
                        decided, pid_alive = cur.fetchone() or (False, True)
                    same_node = (conn.info.host, conn.info.port) == (host, port)
            except psycopg2.Error as exc:
                # The read's own session lost too (the old node accepted it, then its shutdown ended it): the
                # leader is still moving, so read again, on the node the monitor finds next.
                left = deadlines.remaining()
                if not lost_connection(exc) or (left is not None and left <= DECISION_RETRY_S):
                    return None
                if attempt + 1 < DECISION_READS:
                    with cpu_slots.released():
                        time.sleep(DECISION_RETRY_S)
                continue
            except DomainError:
                return None
            if decided:
                return True
            return None if same_node and pid_alive else False
        return None  # every read lost its session: the outcome stays unknown

    def _outcome_unknown(self, lost: psycopg2.Error) -> NoReturn:
        # The COMMIT may have reached the home node, which may still make the decision durable: the prepared
        # parts wait for recovery, which settles them by the decision row.
        self._unknown = True
        self.pools.leave_in_doubt(self.gid, self._prepared, decided=None)
        log.error("cross-shard commit outcome unknown; left for recovery", extra={"gid": self.gid, "shard": self.home})
        raise ShardUnavailable(self.home, Role.PRIMARY.value, "the commit's outcome is unknown; retry with the same "
                               "request_id", reason=COMMIT_UNCONFIRMED) from lost

    def _open_home(self) -> psycopg2.extensions.connection:
        self.cursor(self.home).close()
        return self._conns[self.home]

    def rollback(self) -> None:
        if self._unknown:
            return  # rolling a prepared part back could undo half of a committed decision
        unfinished = []
        for shard, conn in self._conns.items():
            prepared = shard in self._prepared
            if conn.closed:
                if prepared:
                    unfinished.append(shard)
                continue
            try:
                if prepared or shard != self.home:
                    conn.tpc_rollback()
                else:
                    conn.rollback()
            except psycopg2.Error:
                if prepared:
                    unfinished.append(shard)
        if unfinished:  # no COMMIT was sent to the home node, so no decision can exist: recovery rolls back now
            log.warning("rollback failed; left for recovery", extra={"gid": self.gid, "shards": unfinished})
            self.pools.leave_in_doubt(self.gid, unfinished, decided=False)

    def __enter__(self) -> CrossShardWrite:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if not self._done:
                self.rollback()
        finally:
            self._stack.close()


def recover_in_doubt(pools: ShardPools, *, in_doubt_after_s: float = IN_DOUBT_AFTER_S) -> dict[str, int]:
    """Finish what crashed coordinators of this service (`pools.service`) left prepared on every shard;
    returns counts by outcome."""
    pattern = gid_pattern(pools.service)
    counts = {"committed": 0, "rolled_back": 0, "waiting": 0}
    still_prepared: set[str] = set()
    complete = True
    for shard in pools.shard_map.names:
        try:
            with pools.pool(shard, Role.PRIMARY).connection() as conn:
                conn.autocommit = True
                with conn.cursor() as cur, _sole_recoverer(cur, pools.service) as sole:
                    if not sole:  # another process's pass is on this shard now; its outcome is as good
                        complete = False
                        continue
                    # Only those this role may finish: its own, or any for a superuser.
                    cur.execute("SELECT gid, extract(epoch FROM now() - prepared) FROM pg_prepared_xacts "
                                "WHERE gid ~ %s AND database = current_database() AND (owner = current_user "
                                "OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user))", (pattern,))
                    waiting_before = counts["waiting"]
                    for gid, age_s in cur.fetchall():
                        outcome = _resolve(pools, cur, gid, float(age_s), in_doubt_after_s)
                        counts[outcome] += 1
                        if outcome == "waiting":
                            still_prepared.add(gid)
                    shard_metrics.in_doubt(shard, counts["waiting"] - waiting_before)
        except (psycopg2.Error, DomainError) as exc:
            log.warning("in-doubt recovery skipped a shard", extra={"shard": shard, "error": str(exc)})
            complete = False
    if not complete:
        return counts  # a shard we could not read may still hold a decided gid: keep every decision
    for shard in pools.shard_map.names:
        try:
            with pools.write(shard) as cur:
                cur.execute("DELETE FROM tpc_decisions WHERE decided_at < now() - make_interval(secs => %s) "
                            "AND gid ~ %s AND NOT (gid = ANY(%s))",
                            (FORGET_DECISIONS_AFTER_S, pattern, list(still_prepared)))
        except DomainError as exc:
            log.warning("decision clean-up skipped a shard", extra={"shard": shard, "error": str(exc)})
    if counts["committed"] or counts["rolled_back"]:
        log.warning("resolved in-doubt transactions", extra=counts)
    return counts


def settle(pools: ShardPools, shard: str, gid: str, *, decided: bool) -> None:
    """COMMIT PREPARED (decided) or ROLLBACK PREPARED `gid` on `shard`, over a connection of its own; one
    already settled (by another process's recovery pass) is no error."""
    try:
        with pools.pool(shard, Role.PRIMARY).connection() as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(("COMMIT PREPARED %s" if decided else "ROLLBACK PREPARED %s"), (gid,))
    except psycopg2.errors.UndefinedObject:
        return
    except psycopg2.Error as exc:
        raise translate(exc, shard, Role.PRIMARY) from exc


@contextlib.contextmanager
def _sole_recoverer(cur: psycopg2.extensions.cursor, service: str) -> Iterator[bool]:
    """With several instances of a service, one recovery pass of that service at a time per shard: the
    others skip it (a session advisory lock, released at once after the pass so the pooled connection does
    not keep it). Other services' passes go on: they finish other gids."""
    key = recovery_lock(service)
    cur.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
    row = cur.fetchone()
    sole = bool(row and row[0])
    try:
        yield sole
    finally:
        if sole:
            cur.execute("SELECT pg_advisory_unlock(%s, %s)", key)


def _resolve(pools: ShardPools, cur: Any, gid: str, age_s: float, in_doubt_after_s: float) -> str:
    home = home_of(gid)
    with pools.read(home, primary=True) as home_cur:
        home_cur.execute("SELECT 1 FROM tpc_decisions WHERE gid = %s", (gid,))
        decided = home_cur.fetchone() is not None
    if not decided and age_s <= in_doubt_after_s:
        return "waiting"
    try:
        cur.execute(("COMMIT PREPARED %s" if decided else "ROLLBACK PREPARED %s"), (gid,))
    except psycopg2.errors.UndefinedObject:
        pass  # another process finished it first
    except psycopg2.errors.ObjectInUse:
        return "waiting"  # its coordinator is finishing it right now
    return "committed" if decided else "rolled_back"
