"""What one PostgreSQL node says about itself, as `elearn status` and `elearn health` show it: its role, its
streaming replicas, and a replica's lag and whether the services' limits let it serve reads.

The probe and the verdict are the services' own (`shared.pg.node_probe`, `shared.pg.replica_monitor.judge`).
"""
from __future__ import annotations

from shared.pg.admin import Unreachable
from shared.pg.node_probe import NodeProbe, lag_bytes, probe_dsn
from shared.pg.replica_monitor import judge
from shared.settings import ReplicaLimits


def one_shot_lag_s(primary: NodeProbe, replica: NodeProbe) -> float | None:
    """Seconds behind, from a single look: none when the replica has replayed all the primary's WAL (an idle
    primary is no lag); otherwise the larger of the primary's replay_lag and the age of the last replayed
    commit. (The services' monitors time the lag from their own history of the primary's positions.)"""
    behind = lag_bytes(primary, replica)
    if behind is None:
        return None
    if behind == 0:
        return 0.0
    return max(primary.replay_lag_s, replica.replay_age_s or 0.0)


def node_facts(dsn: str, primary: NodeProbe | None = None, connect_timeout_s: float = 3,
               limits: ReplicaLimits = ReplicaLimits()) -> tuple[NodeProbe, dict]:
    """The node's probe, and its facts for display: "role", a one-line "health", and for a primary
    "streaming_replicas"; for a replica (given its primary's probe) "lag_bytes", "lag_s", "receiving",
    "replay_paused" and "serves_reads" under `limits`. Raises `Unreachable` when the node cannot be reached."""
    node = probe_dsn(dsn, connect_timeout_s)
    if not node.reachable:
        raise Unreachable(node.error)
    if not node.in_recovery:
        mode = "synchronous" if node.synchronous_replicas else "asynchronous"
        return node, {"role": "primary", "streaming_replicas": node.streaming_replicas,
                      "synchronous_replicas": node.synchronous_replicas,
                      "health": f"primary, {node.streaming_replicas} streaming replica(s), {mode}"}
    behind = lag_bytes(primary, node) if primary else None
    lag_s = one_shot_lag_s(primary, node) if primary else None
    serves, reason = judge(primary, node, lag_s, limits) if primary and primary.is_primary else (False, "no primary")
    lag_text = (f"{behind} B / {lag_s:.3f} s" if behind is not None and lag_s is not None else "unknown")
    paused = ", replay paused" if node.replay_paused else ""
    return node, {"role": "replica", "lag_bytes": behind, "lag_s": lag_s, "receiving": node.receiving,
                  "replay_paused": node.replay_paused, "serves_reads": serves,
                  "health": f"replica, lag {lag_text}{paused}; "
                            + ("serves reads" if serves else f"no reads ({reason})")}
