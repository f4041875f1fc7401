"""What one PostgreSQL node says about itself: its role, its streaming replicas, and a replica's replay lag.

Used by `elearn status` (the local cluster) and `elearn health` (any topology), so both read a node the same way.
"""
from __future__ import annotations

import psycopg2


def node_facts(dsn: str, primary_lsn: str | None = None, connect_timeout_s: float = 3) -> dict:
    """The role ("primary" or "replica") of the node at `dsn`, with a one-line summary in "health".

    A primary adds "current_lsn" and "streaming_replicas". A replica adds "receiving" (its WAL receiver is
    streaming from the primary), "lag_s" (0 when it has replayed all it received) and, when `primary_lsn`
    (the primary's current LSN) is given, "lag_bytes". Raises psycopg2.Error when the node is unreachable.
    """
    conn = psycopg2.connect(dsn, connect_timeout=max(1, round(connect_timeout_s)))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_is_in_recovery()")
            if not cur.fetchone()[0]:
                cur.execute("SELECT pg_current_wal_lsn()::text, "
                            "(SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming')")
                lsn, streaming = cur.fetchone()
                return {"role": "primary", "health": f"primary, {streaming} streaming replica(s)",
                        "current_lsn": lsn, "streaming_replicas": streaming}
            cur.execute("SELECT pg_last_wal_replay_lsn()::text, "
                        "CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
                        "ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END, "
                        "EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')")
            replay_lsn, lag_s, receiving = cur.fetchone()
            lag_bytes = None
            if primary_lsn and replay_lsn:
                cur.execute("SELECT greatest(pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn), 0)::bigint",
                            (primary_lsn, replay_lsn))
                lag_bytes = cur.fetchone()[0]
            lag_s = float(lag_s or 0)
            return {"role": "replica", "lag_bytes": lag_bytes, "lag_s": lag_s, "receiving": receiving,
                    "health": f"replica, replay lag {lag_bytes if lag_bytes is not None else '?'} B / "
                              f"{lag_s:.3f} s"}
    finally:
        conn.close()
