"""`elearn failover --shard S`: promote the shard's replica, then rebuild the old primary as its new replica.

The steps, each timed:
1. fence the old primary: a running one is shut down ("fast": its WAL senders pass the last WAL to the
   replica before it exits, so a planned switchover loses nothing); a dead one stays down;
2. promote the replica (pg_promote, waiting until it accepts writes). With synchronous replication every
   acknowledged commit is already flushed on it, and it replays all it has before accepting writes;
3. record the new roles (roles.json and the topology file, for processes started later). Running services
   need no restart: their replica monitors see the promoted node and move writes to it;
4. rebuild the old primary's node as a replica of the new primary (pg_basebackup) and start it. In sync
   mode, commits on the new primary wait until this standby streams.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from launcher import postgres
from launcher.layout import SHARD_NAMES, Layout
from shared.node_probe import probe_dsn


class FailoverError(RuntimeError):
    pass


@dataclass
class FailoverResult:
    shard: str
    old_primary: str          # "host:port" of the node that was the primary
    new_primary: str
    steps: dict[str, float] = field(default_factory=dict)  # step → seconds

    @property
    def promoted_after_s(self) -> float:
        return self.steps.get("fence", 0.0) + self.steps.get("promote", 0.0)

    @property
    def total_s(self) -> float:
        return sum(self.steps.values())


def failover(layout: Layout, shard: str, start_replica: Callable[[str], None],
             apply_replication_mode: Callable[[str], None], say: Callable[[str], None] = print) -> FailoverResult:
    if shard not in SHARD_NAMES:
        raise FailoverError(f"unknown shard {shard!r}; expected one of {', '.join(SHARD_NAMES)}")
    old_node, new_node = layout.node(shard, "primary"), layout.node(shard, "replica")
    old_dir = layout.node_dir(shard, old_node)
    old_port, new_port = layout.node_port(shard, old_node), layout.node_port(shard, new_node)
    result = FailoverResult(shard, f"127.0.0.1:{old_port}", f"127.0.0.1:{new_port}")
    replica = probe_dsn(postgres.dsn(new_port))
    if not replica.reachable:
        raise FailoverError(f"the {shard} replica (127.0.0.1:{new_port}) is not reachable ({replica.error}); "
                            f"there is nothing to promote")
    promoted_already = not replica.in_recovery  # promoted by hand, or a failover interrupted after promoting

    def step(name: str, message: str, action: Callable[[], None]) -> None:
        say(f"  {message}")
        began = time.monotonic()
        action()
        result.steps[name] = time.monotonic() - began

    step("fence", f"fencing the old primary 127.0.0.1:{old_port}", lambda: _fence(old_dir))
    if promoted_already:
        say(f"  the replica 127.0.0.1:{new_port} is a primary already; completing the failover")
    else:
        step("promote", f"promoting the replica 127.0.0.1:{new_port}", lambda: postgres.promote(new_port))
    layout.set_primary_node(shard, new_node)
    step("rebuild", f"rebuilding 127.0.0.1:{old_port} as the new replica", lambda: _rebuild(old_dir, shard,
                                                                                          start_replica))
    step("sync", "waiting for the new replica to stream", lambda: apply_replication_mode(shard))
    return result


def _fence(data) -> None:
    """Make sure the old primary cannot take writes any more: shut it down if it runs ("fast", then
    "immediate" when it does not stop in time)."""
    try:
        postgres.stop(data, mode="fast", timeout_s=20)
    except postgres.PostgresError:
        postgres.stop(data, mode="immediate", timeout_s=20)


def _rebuild(data, shard: str, start_replica: Callable[[str], None]) -> None:
    """Its data is the old timeline's: start over from a base backup of the new primary."""
    postgres.remove_data(data)
    start_replica(shard)
