"""One question to a PostgreSQL node: is it a primary or a replica, where is its WAL, how far behind is it.

The replica monitor of every service (`shared.pg.replica_monitor`) and the launcher's `elearn status` and
`elearn health` ask it the same way, so all three agree on what "lag" means.
"""
from __future__ import annotations

from dataclasses import dataclass

import psycopg2
import psycopg2.extensions

from shared.pg.lsn import parse_lsn

# One round trip. On a primary: its current WAL position, timeline, and its standbys as the WAL senders see
# them. On a replica: the last replayed position, the age of the last replayed commit, whether replay is
# paused and whether its WAL receiver streams. It reads pg_stat_get_wal_senders() and
# pg_stat_get_wal_receiver() rather than the pg_stat_replication and pg_stat_wal_receiver views: the views
# join every backend slot (max_connections of them) and made the probe 2 ms of server time instead of 0.25;
# five services probe every node twice a second.
PROBE_SQL = """
SELECT r.in_recovery,
       CASE WHEN r.in_recovery THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END::text,
       CASE WHEN r.in_recovery THEN NULL
            ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,
       CASE WHEN r.in_recovery THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END,
       CASE WHEN r.in_recovery THEN pg_is_wal_replay_paused() ELSE false END,
       coalesce((SELECT status = 'streaming' FROM pg_stat_get_wal_receiver()), false),
       s.streaming, s.replay_lag, s.synchronous
FROM (SELECT pg_is_in_recovery() AS in_recovery) r,
     (SELECT count(*) FILTER (WHERE state = 'streaming') AS streaming,
             coalesce(max(extract(epoch FROM replay_lag)), 0)::float8 AS replay_lag,
             count(*) FILTER (WHERE sync_state IN ('sync', 'quorum')) AS synchronous
        FROM pg_stat_get_wal_senders()) s
"""
# The same question as a function the migrations made (sql/migrations/0030), for a service's own role:
# PostgreSQL shows the WAL senders' and receiver's state in full only to superusers and pg_read_all_stats.
PROBE_CALL = "SELECT * FROM node_probe()"


@dataclass(frozen=True)
class NodeProbe:
    dsn: str
    reachable: bool
    in_recovery: bool = False
    lsn: int | None = None          # primary: current WAL position; replica: last replayed position
    timeline: int | None = None     # primary only: the timeline it writes (a promotion starts a new one)
    replay_age_s: float | None = None   # replica: age of the last replayed commit
    replay_paused: bool = False
    receiving: bool = False         # replica: its WAL receiver is streaming
    streaming_replicas: int = 0     # primary: standbys streaming from it
    replay_lag_s: float = 0.0       # primary: largest replay lag its standbys reported
    synchronous_replicas: int = 0   # primary: standbys its commits wait for
    error: str = ""

    @property
    def is_primary(self) -> bool:
        return self.reachable and not self.in_recovery


def probe(conn: psycopg2.extensions.connection, dsn: str = "", sql: str = PROBE_SQL) -> NodeProbe:
    """Ask an open autocommit connection (`sql`: PROBE_SQL or PROBE_CALL); psycopg2.Error when the node does
    not answer."""
    with conn.cursor() as cur:
        cur.execute(sql)
        row = cur.fetchone()
        if row is None:
            raise psycopg2.InterfaceError("the probe returned no row")
        in_recovery, lsn, timeline, age, paused, receiving, streaming, replay_lag, synchronous = row
    return NodeProbe(dsn, True, in_recovery, parse_lsn(lsn) if lsn else None, timeline, age, paused, receiving,
                     streaming, replay_lag, synchronous)


def probe_dsn(dsn: str, connect_timeout_s: float = 2.0) -> NodeProbe:
    """Connect, probe, close; an unreachable node is a NodeProbe with reachable=False and the error."""
    try:
        conn = psycopg2.connect(dsn, connect_timeout=max(1, round(connect_timeout_s)),
                                options="-c statement_timeout=2000", application_name="elearn-probe")
    except psycopg2.Error as exc:
        return unreachable(dsn, exc)
    try:
        conn.autocommit = True
        return probe(conn, dsn)
    except psycopg2.Error as exc:
        return unreachable(dsn, exc)
    finally:
        conn.close()


def unreachable(dsn: str, exc: Exception) -> NodeProbe:
    text = str(exc).strip()
    return NodeProbe(dsn, False, error=text.splitlines()[0] if text else type(exc).__name__)


def lag_bytes(primary: NodeProbe, replica: NodeProbe) -> int | None:
    """How far the replica's replay is behind the primary's WAL, never negative; None when unknown."""
    if primary.lsn is None or replica.lsn is None:
        return None
    return max(primary.lsn - replica.lsn, 0)
