"""Which node serves a read: the rule, free of connections so it is tested on its own.

STRONG reads, reads a write decision depends on, and reads while the replica gets no reads (down, lagging,
not in recovery) go to the primary. BOUNDED reads go to the replica when its measured lag, aged by the time
since the measurement, is within the bound. SESSION reads go to the replica when it is known to have
replayed the session token for the shard; when that is not known, the replica is asked (CHECK_REPLICA) and
the read falls back to the primary if it has not replayed the token within a few milliseconds.
"""
from __future__ import annotations

import enum

from shared.consistency import Mode, ReadPolicy
from shared.pg.replica_monitor import ReplicaView


class Route(enum.Enum):
    PRIMARY = "primary"
    REPLICA = "replica"
    CHECK_REPLICA = "check"


def route_read(policy: ReadPolicy, shard: str, view: ReplicaView | None, *, replayed_lsn: int, now: float,
               check_interval_s: float, primary_only: bool = False) -> Route:
    """`replayed_lsn`: the highest position this process knows the replica has replayed."""
    if primary_only or policy.mode is Mode.STRONG:
        return Route.PRIMARY
    if view is not None and not view.readable:
        return Route.PRIMARY
    if policy.mode is Mode.BOUNDED:
        if view is None or view.lag_s is None or now - view.checked_at > 3 * check_interval_s:
            return Route.PRIMARY  # no fresh measurement to bound the staleness with
        staleness_ms = (view.lag_s + (now - view.checked_at)) * 1000
        return Route.REPLICA if staleness_ms <= (policy.max_staleness_ms or 0) else Route.PRIMARY
    token = policy.min_lsn.get(shard)
    if token is None or token <= replayed_lsn:
        return Route.REPLICA
    return Route.CHECK_REPLICA
