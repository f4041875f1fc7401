"""Per-shard health: each service reports `<service>/shard/<shard>` NOT_SERVING while that shard's bulkhead
is stalled or refusing calls (and for HOLD_DOWN_S after the last sign of it, since a stalled shard's calls
are cut at their deadlines and refusals come in bursts), SERVING otherwise, while its overall health (and so
the balancers' view of the instance) stays SERVING: the other shards are served as usual."""
from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from shared.bulkhead import ShardGate
from shared.health_loop import HealthLoop

HOLD_DOWN_S = 2.0


def shard_health_name(service: str, shard: str) -> str:
    """The health service name of one shard of a service, e.g. elearning.users.v1.UserService/shard/eu."""
    return f"{service}/shard/{shard}"


class ShardHealth(HealthLoop):
    """Every `interval_s`, sets each shard's health name from its gate: NOT_SERVING while the gate is stalled
    or has refused a call within the last `hold_down_s`."""

    def __init__(self, gates: Mapping[str, ShardGate], services: Iterable[str], interval_s: float = 0.25,
                 hold_down_s: float = HOLD_DOWN_S):
        super().__init__(interval_s, "shard-health")
        self.gates = gates
        self.hold_down_s = hold_down_s
        self._bad_at: dict[str, float] = {}
        self.services = list(services)
        self._refused = {shard: gate.refused for shard, gate in gates.items()}

    def check_once(self) -> dict[str, bool]:
        """{shard: serving} now, also set on the health servicer."""
        states = {}
        now = time.monotonic()
        for shard, gate in self.gates.items():
            refused, self._refused[shard] = gate.refused - self._refused[shard], gate.refused
            if gate.stalled() or refused:
                self._bad_at[shard] = now
            states[shard] = now - self._bad_at.get(shard, -self.hold_down_s) >= self.hold_down_s
        for shard, serving in states.items():
            for service in self.services:
                self.publish(shard_health_name(service, shard), serving)
        return states
