"""shared.shard_health: a shard whose bulkhead stalls or refuses reads NOT_SERVING under its own health name,
the other shards and the service itself stay SERVING, and the shard is SERVING again once it admits calls."""
from __future__ import annotations

import threading
import time

from grpc_health.v1 import health, health_pb2

from shared.bulkhead import ShardGate
from shared.errors import ShardUnavailable
from shared.shard_health import ShardHealth, shard_health_name

SERVICE = "elearning.users.v1.UserService"


def status(servicer: health.HealthServicer, name: str) -> str:
    reply = servicer.Check(health_pb2.HealthCheckRequest(service=name), None)
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


def test_a_stalled_shard_is_not_serving_and_the_others_are():
    gates = {shard: ShardGate(shard, limit=1, stall_s=0.05) for shard in ("na", "eu")}
    servicer = health.HealthServicer()
    servicer.set(SERVICE, health_pb2.HealthCheckResponse.SERVING)
    watcher = ShardHealth(gates, [SERVICE], hold_down_s=0.3)
    watcher._health = servicer
    assert watcher.check_once() == {"na": True, "eu": True}
    release = threading.Event()

    def stuck() -> None:
        with gates["eu"].entered("primary"):
            release.wait(5)

    holder = threading.Thread(target=stuck)
    holder.start()
    try:
        time.sleep(0.1)
        try:
            with gates["eu"].entered("primary"):
                pass
        except ShardUnavailable:
            pass  # refused: the gate is full and stalled
        assert watcher.check_once() == {"na": True, "eu": False}
        assert status(servicer, shard_health_name(SERVICE, "eu")) == "NOT_SERVING"
        assert status(servicer, shard_health_name(SERVICE, "na")) == "SERVING"
        assert status(servicer, SERVICE) == "SERVING"
    finally:
        release.set()
        holder.join()
    assert watcher.check_once() == {"na": True, "eu": False}  # for hold_down_s after the last refusal
    time.sleep(0.35)
    assert watcher.check_once() == {"na": True, "eu": True}
    assert status(servicer, shard_health_name(SERVICE, "eu")) == "SERVING"
