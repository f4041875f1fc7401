"""`elearn health`: check every part of a deployment named by its topology, local or not.

Each service instance and the gateway answer grpc.health.v1 by full service name (the gateway once per public
API);
each shard must have one primary and one replica that is streaming from it, with its replay lag in bytes
and seconds under the limits (which node has which role is Patroni's choice, so the topology's order is only
a hint); where the topology names the shard's Patroni REST APIs, Patroni must report a running leader and,
in synchronous mode, a streaming synchronous standby; each shard's MongoDB database must answer a ping.
Addresses are shown as host:port only, never with credentials.
"""
from __future__ import annotations

import argparse
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from pymongo import MongoClient
from pymongo.errors import PyMongoError
from pymongo.uri_parser import parse_uri

from launcher import patroni, target
from launcher.components import GATEWAY, SERVICES
from launcher.nodes import describe
from launcher.processes import health_status
from launcher.replication import node_facts
from shared.pg import admin
from shared.pg.node_probe import probe_dsn
from shared.settings import TlsSettings, parse_shard_map, target_addresses, tls_settings
from shared.shard_health import shard_health_name
from shared.sharding import Shard


@dataclass(frozen=True)
class Limits:
    max_lag_s: float = 30.0
    max_lag_bytes: int = 16 * 1024 * 1024
    timeout_s: float = 3.0
    tls: TlsSettings | None = None  # the client certificate that services require (None: plaintext)


@dataclass
class Check:
    component: str
    address: str
    healthy: bool
    detail: str
    facts: dict = field(default_factory=dict)


_MONGO_NOISE = re.compile(r", Timeout: | \(configured timeouts")  # pymongo appends its topology and settings


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_grpc(component: str, address: str, service: str, limits: Limits, shards: tuple[str, ...] = ()) -> Check:
    """The service's health and, for each of `shards`, its per-shard health (`<service>/shard/<shard>`): a shard
    whose calls this service refuses (stalled, its bulkhead full) makes the check unhealthy and is named."""
    status = health_status(address, service, timeout_s=limits.timeout_s, tls=limits.tls)
    detail = f"{service or 'server'}: {status}"
    if status != "SERVING" or not shards:
        return Check(component, address, status == "SERVING", detail)
    degraded = [shard for shard in shards if health_status(address, shard_health_name(service, shard),
                                                           timeout_s=limits.timeout_s, tls=limits.tls) == "NOT_SERVING"]
    if degraded:
        return Check(component, address, False, f"{detail}; degraded shard(s): {', '.join(degraded)}",
                     {"degraded_shards": degraded})
    return Check(component, address, True, detail)


def check_shard(shard: Shard, limits: Limits) -> list[Check]:
    """The primary, then the replica (its byte lag is measured against the primary's current LSN). The node
    the topology lists second is taken as the primary when it is the only one not in recovery (Patroni failed
    over since the topology was written)."""
    checks, primary = [], None
    first, second = shard.primary_dsn, shard.replica_dsn
    if first != second and _is_primary(second, limits) and not _is_primary(first, limits):
        first, second = second, first
    for role, dsn in (("primary", first), ("replica", second)):
        component, address = f"postgres {shard.name} {role}", admin.address(dsn)
        try:
            node, facts = node_facts(dsn, primary, connect_timeout_s=limits.timeout_s)
        except admin.AdminError as exc:
            checks.append(Check(component, address, False, f"unreachable: {_first_line(exc)}"))
            continue
        if facts["role"] == "primary":
            primary = node
        summary = facts.pop("health")
        checks.append(Check(component, address, *_judge(role, facts, summary, limits), facts))
    return checks


def _is_primary(dsn: str, limits: Limits) -> bool:
    node = probe_dsn(dsn, limits.timeout_s)
    return node.reachable and not node.in_recovery


def check_patroni(name: str, rest: list[str], limits: Limits) -> Check:
    """Patroni's view of one shard: a running leader, and in synchronous mode a streaming sync standby."""
    component, address = f"patroni {name}", rest[0] if len(rest) == 1 else f"{rest[0]} +{len(rest) - 1}"
    view = patroni.cluster_view(rest)
    if view is None:
        return Check(component, address, False, "no member's REST API answers")
    members = view.get("members", [])
    facts = {"members": {m["name"]: describe(m) for m in members}}
    holder, standby = patroni.leader(view), patroni.sync_standby(view)
    detail = "; ".join(f"{m['name']} {describe(m)}" for m in members) or "no members"
    if holder is None:
        return Check(component, address, False, f"no running leader: {detail}", facts)
    if patroni.shard_config(rest).get("synchronous_mode") and standby is None:
        return Check(component, address, False, f"no streaming synchronous standby: {detail}", facts)
    return Check(component, address, True, detail, facts)


def _judge(role: str, facts: dict, summary: str, limits: Limits) -> tuple[bool, str]:
    if facts["role"] != role:
        found = "a replica (in recovery)" if facts["role"] == "replica" else "a primary (promoted?)"
        return False, f"expected the {role}, found {found}"
    if role == "primary":
        return True, summary
    if not facts["receiving"]:
        return False, f"not streaming from the primary (WAL receiver down); {summary}"
    if (facts["lag_s"] or 0) > limits.max_lag_s or (facts["lag_bytes"] or 0) > limits.max_lag_bytes:
        return False, f"lagging beyond {limits.max_lag_bytes} B / {limits.max_lag_s:g} s: {summary}"
    return True, f"{summary}, streaming"


def check_mongo(shard: Shard, limits: Limits) -> Check:
    component = f"mongo {shard.name}"
    if not shard.mongo_uri:
        return Check(component, "-", False, "no mongo_uri in the topology")
    try:
        address = ",".join(f"{host}:{port}" for host, port in parse_uri(shard.mongo_uri)["nodelist"])
    except (PyMongoError, ValueError) as exc:
        return Check(component, "-", False, f"bad mongo_uri: {_first_line(exc)}")
    timeout_ms = int(limits.timeout_s * 1000)
    client = MongoClient(shard.mongo_uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms,
                         socketTimeoutMS=timeout_ms)
    try:
        client[shard.mongo_db].command("ping")
    except PyMongoError as exc:
        return Check(component, address, False, f"ping failed: {_MONGO_NOISE.split(_first_line(exc))[0]}")
    finally:
        client.close()
    return Check(component, address, True, f"ping ok (database {shard.mongo_db})")


def instance_addresses(topology: dict, service: str, target: str) -> list[str]:
    """Each instance of a service is checked on its own: the topology's "instances" list, else the addresses
    its target names (a DNS name stands for all its instances: its check reaches one of them)."""
    return list(topology.get("instances", {}).get(service) or target_addresses(target))


def run_checks(topology: dict, limits: Limits = Limits()) -> list[Check]:
    """Every check of the deployment, run in parallel; results in a stable order."""
    names = {c.name: c.health_names[0] for c in SERVICES}
    services = topology.get("services", {})
    gateway = topology.get("gateway", "")
    shard_map = parse_shard_map(topology)
    shards = tuple(shard_map.names)
    jobs = [lambda n=n, i=i, a=a: [check_grpc(n if i == 0 else f"{n}-{i + 1}", a, names.get(n, ""), limits, shards)]
            for n, target in services.items() for i, a in enumerate(instance_addresses(topology, n, target))]
    if gateway:
        jobs.append(lambda: [check_grpc("gateway", gateway, GATEWAY.health_names[0], limits)])
        jobs += [lambda n=n: [check_grpc(f"gateway {n}", gateway, names[n], limits)] for n in services if n in names]
    jobs += [lambda s=s: check_shard(s, limits) for s in shard_map.shards]
    jobs += [lambda e=e: [check_patroni(e["name"], e["patroni"], limits)]
             for e in topology.get("shards", []) if e.get("patroni")]
    jobs += [lambda s=s: [check_mongo(s, limits)] for s in shard_map.shards]
    with ThreadPoolExecutor(max_workers=16, thread_name_prefix="health") as pool:
        return [check for result in pool.map(lambda job: job(), jobs) for check in result]


def render(checks: list[Check]) -> str:
    width = max(len(c.component) for c in checks) + 2
    lines = [f"{'component':<{width}}{'address':<24}{'state':<11}detail"]
    lines += [f"{c.component:<{width}}{c.address:<24}{'ok' if c.healthy else 'UNHEALTHY':<11}{c.detail}"
              for c in checks]
    bad = [c.component for c in checks if not c.healthy]
    lines.append(f"elearn health: {len(bad)} of {len(checks)} checks unhealthy: {', '.join(bad)}" if bad
                 else f"elearn health: all {len(checks)} checks healthy")
    return "\n".join(lines)


def _flat(check: Check) -> dict:
    row = asdict(check)
    facts = row.pop("facts")
    return {**row, **facts}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--max-lag-seconds", type=float, default=Limits.max_lag_s,
                        help=f"a replica further behind is unhealthy (default {Limits.max_lag_s:g})")
    parser.add_argument("--max-lag-bytes", type=int, default=Limits.max_lag_bytes,
                        help=f"a replica further behind is unhealthy (default {Limits.max_lag_bytes})")
    parser.add_argument("--timeout", type=float, default=Limits.timeout_s, help="seconds per check (default 3)")


def command(args: argparse.Namespace) -> int:
    """0 when everything is healthy, 1 otherwise."""
    where = target.resolve(args.data_dir, None)
    tls = tls_settings("client", where.topology, os.environ)
    checks = run_checks(where.topology, Limits(args.max_lag_seconds, args.max_lag_bytes, args.timeout, tls))
    healthy = all(c.healthy for c in checks)
    if args.json:
        print(json.dumps({"healthy": healthy, "topology": where.source,
                          "checks": [_flat(c) for c in checks]}, indent=2, default=str))
    else:
        print(render(checks))
    return 0 if healthy else 1
