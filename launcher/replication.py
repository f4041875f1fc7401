"""What one PostgreSQL node says about itself: its role, its streaming replicas, and a replica's replay lag.

Used by `elearn status` (the local cluster) and `elearn health` (any topology), so both read a node the same way.
"""
from __future__ import annotations

import psycopg2


def node_facts(dsn: str, primary: dict | None = None, connect_timeout_s: float = 3) -> dict:
    """The role ("primary" or "replica") of the node at `dsn`, with a one-line summary in "health".

    A primary adds "current_lsn", "streaming_replicas" and "replay_lag_s" (the largest replay lag its
    replicas reported, from pg_stat_replication; 0 when they are idle and caught up). A replica adds
    "receiving" (its WAL receiver is streaming) and, given its primary's facts, "lag_bytes" (behind the
    primary's current LSN) and "lag_s" (the primary's view; the age of the last replayed transaction would
    read as minutes of lag after any idle spell). Raises psycopg2.Error when the node is unreachable.
    """
    conn = psycopg2.connect(dsn, connect_timeout=max(1, round(connect_timeout_s)))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_is_in_recovery()")
            if not cur.fetchone()[0]:
                cur.execute("SELECT pg_current_wal_lsn()::text, count(*) FILTER (WHERE state = 'streaming'), "
                            "coalesce(max(extract(epoch FROM replay_lag)), 0)::float8 FROM pg_stat_replication")
                lsn, streaming, replay_lag_s = cur.fetchone()
                return {"role": "primary", "health": f"primary, {streaming} streaming replica(s)",
                        "current_lsn": lsn, "streaming_replicas": streaming, "replay_lag_s": replay_lag_s}
            cur.execute("SELECT pg_last_wal_replay_lsn()::text, "
                        "EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')")
            replay_lsn, receiving = cur.fetchone()
            lag_bytes = None
            if primary and replay_lsn:
                cur.execute("SELECT greatest(pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn), 0)::bigint",
                            (primary["current_lsn"], replay_lsn))
                lag_bytes = cur.fetchone()[0]
            lag_s = float(primary["replay_lag_s"]) if primary and lag_bytes else 0.0
            return {"role": "replica", "lag_bytes": lag_bytes, "lag_s": lag_s, "receiving": receiving,
                    "health": f"replica, replay lag {lag_bytes if lag_bytes is not None else '?'} B / "
                              f"{lag_s:.3f} s"}
    finally:
        conn.close()
