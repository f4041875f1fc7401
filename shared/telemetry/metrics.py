"""The Prometheus metrics of a process, in one registry, and the HTTP endpoint that serves them.

Names follow the `grpc_server_*` / `grpc_client_*` family Prometheus users know; the `elearn_*` ones are
per shard and node role. Labels hold only names from fixed sets (methods, codes, shards, roles, backends),
never an ID, so the number of series stays small whatever the traffic.
"""
from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, start_http_server

log = logging.getLogger(__name__)
# The *_created series would double the scrape for a start time nobody graphs.
disable_created_metrics()  # type: ignore[no-untyped-call]

REGISTRY = CollectorRegistry(auto_describe=True)
# From half a millisecond (a cached read) to ten seconds (past every deadline this project sets).
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_CALL = ("grpc_service", "grpc_method", "grpc_type")
SERVER_STARTED = Counter("grpc_server_started_total", "RPCs started on the server.", _CALL, registry=REGISTRY)
SERVER_HANDLED = Counter("grpc_server_handled_total", "RPCs completed on the server, by status code.",
                         (*_CALL, "grpc_code"), registry=REGISTRY)
SERVER_SECONDS = Histogram("grpc_server_handling_seconds", "Time to handle an RPC on the server.",
                           (*_CALL, "grpc_code"), buckets=LATENCY_BUCKETS, registry=REGISTRY)

_CLIENT = (*_CALL, "backend")
CLIENT_STARTED = Counter("grpc_client_started_total", "RPCs started by this process (gateway to backend, "
                         "service to service).", _CLIENT, registry=REGISTRY)
CLIENT_HANDLED = Counter("grpc_client_handled_total", "RPCs completed by the callee, by status code.",
                         (*_CLIENT, "grpc_code"), registry=REGISTRY)
CLIENT_SECONDS = Histogram("grpc_client_handling_seconds", "Time from sending an RPC to its answer.",
                           (*_CLIENT, "grpc_code"), buckets=LATENCY_BUCKETS, registry=REGISTRY)

SHED = Counter("elearn_shed_calls_total", "Calls answered RESOURCE_EXHAUSTED by load shedding.",
               ("grpc_service", "grpc_method"), registry=REGISTRY)
ACCESS_LOG_DROPPED = Counter("elearn_access_log_dropped_total", "Access log lines not written (sampled out or "
                             "over the rate limit).", registry=REGISTRY)

_NODE = ("shard", "role")
QUERY_SECONDS = Histogram("elearn_db_query_seconds", "Time of one SQL statement, by shard and node role.",
                          _NODE, buckets=LATENCY_BUCKETS, registry=REGISTRY)
MONGO_SECONDS = Histogram("elearn_mongo_command_seconds", "Time of one MongoDB command, by shard.",
                          ("shard",), buckets=LATENCY_BUCKETS, registry=REGISTRY)
POOL_IN_USE = Gauge("elearn_db_pool_in_use", "Connections checked out of the pool.", _NODE, registry=REGISTRY)
POOL_WAITING = Gauge("elearn_db_pool_waiting", "Callers waiting for a pooled connection.", _NODE,
                     registry=REGISTRY)
POOL_TIMEOUTS = Counter("elearn_db_pool_timeouts_total", "Callers that got no pooled connection in time.", _NODE,
                        registry=REGISTRY)
READS = Counter("elearn_db_reads_total", "Reads, by the node role that served them.", _NODE, registry=REGISTRY)
COMMIT_SECONDS = Histogram("elearn_db_commit_seconds", "Time of a COMMIT on a shard primary (with synchronous "
                           "replication, the wait for the standby).", ("shard",), buckets=LATENCY_BUCKETS,
                           registry=REGISTRY)
REPLICA_LAG_BYTES = Gauge("elearn_replica_lag_bytes", "WAL the replica has not replayed yet, in bytes.",
                          ("shard",), registry=REGISTRY)
REPLICA_LAG_SECONDS = Gauge("elearn_replica_lag_seconds", "How far the replica's replay is behind, in seconds.",
                            ("shard",), registry=REGISTRY)
REPLICA_READABLE = Gauge("elearn_replica_readable", "1 while the replica may serve reads.", ("shard",),
                         registry=REGISTRY)
PRIMARY_UP = Gauge("elearn_shard_primary_up", "1 while a writable primary of the shard answers.", ("shard",),
                   registry=REGISTRY)
IN_DOUBT = Gauge("elearn_twophase_in_doubt", "Prepared cross-shard transactions not yet resolved.", ("shard",),
                 registry=REGISTRY)


def serve(address: str) -> int:
    """Serve /metrics on `address` ("host:port", port 0 picks one); returns the port."""
    host, _, port = address.rpartition(":")
    server, _thread = start_http_server(int(port), addr=host or "127.0.0.1", registry=REGISTRY)
    bound = server.server_address[1]
    log.info("metrics endpoint", extra={"address": f"{host}:{bound}"})
    return int(bound)
