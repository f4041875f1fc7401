"""How a channel to a service spreads calls over its instances and drops a dead one quickly.

Every channel to a service (the gateway's to its backends, a service's to another) balances `round_robin`
over the addresses its target names (`ipv4:a,b` or a DNS name with several records), watches each instance
with grpc.health.v1 (an instance that is stopping goes NOT_SERVING first, so it leaves the rotation before
it stops taking calls; a killed one leaves when its connection breaks) and reconnects to a restarted one
within 100 to 300 ms.
"""
from __future__ import annotations

import json

SERVICE_CONFIG = json.dumps({
    "loadBalancingConfig": [{"round_robin": {}}],
    # "" is the server's overall health: an instance that is up but draining is left out of the rotation.
    "healthCheckConfig": {"serviceName": ""},
})

CHANNEL_OPTIONS: list[tuple[str, str | int]] = [
    ("grpc.service_config", SERVICE_CONFIG),
    # A DNS name's records are the instances: a service config from DNS TXT records must not replace ours.
    ("grpc.service_config_disable_resolution", 1),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    # A dead instance costs a refused connect every 300 ms at most; a restarted one is found that quickly.
    ("grpc.max_reconnect_backoff_ms", 300),
    # Re-resolve a DNS name at most this often (ms), so replicas added by the orchestrator join quickly.
    ("grpc.dns_min_time_between_resolutions_ms", 5000),
]
