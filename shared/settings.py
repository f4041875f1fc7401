"""Process settings: one frozen dataclass, read once at start-up from the environment and a topology file.

The topology (shards, their DSNs, the service addresses) comes from, in order: the JSON file named by
ELEARN_CONFIG, inline JSON in ELEARN_TOPOLOGY, or the local defaults that `elearn up` uses. Per-process
knobs come from ELEARN_* variables. A missing or wrong setting raises SettingsError with a clear message.
"""
from __future__ import annotations

import json
import math
import os
import pathlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from shared import secret_files
from shared.pg.login import PgLogin, login_from_env
from shared.sharding import Shard, ShardMap

SERVICES = ("users", "courses", "enrollments", "payments", "content")
DEFAULT_SHARDS = (("na", 1, ("NORTH_AMERICA", "SOUTH_AMERICA")),
                  ("eu", 2, ("EUROPE", "AFRICA")),
                  ("apac", 3, ("ASIA", "OCEANIA")))


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class LocalPorts:
    """The ports of the embedded local cluster; none collides with a system PostgreSQL on 5432."""

    host: str = "127.0.0.1"
    gateway: int = 50051
    service_base: int = 50061      # users, courses, enrollments, payments, content: base + 0..4
    pg_primary_base: int = 54321   # na, eu, apac primaries: base + 0..2
    pg_replica_base: int = 54331   # their replicas
    mongo: int = 27027

    def service(self, name: str, instance: int = 0) -> int:
        """The port of a service's instance: instance i listens INSTANCE_STRIDE * i above the first."""
        return self.service_base + SERVICES.index(name) + INSTANCE_STRIDE * instance

    def metrics(self, process: str, instance: int = 0) -> int:
        """The /metrics port of a process: METRICS_SHIFT above its gRPC port (the gateway's sits 10 below the
        first service's, as its gRPC port does by default), so instances never collide."""
        grpc_port = self.service_base - INSTANCE_STRIDE if process == "gateway" else self.service(process, instance)
        return grpc_port + METRICS_SHIFT

    @property
    def prometheus(self) -> int:
        """Prometheus's own port, when `elearn up --with-prometheus` runs it."""
        return self.service_base + 16


INSTANCE_STRIDE = 10  # ports between two instances of a service (the gateway sits 10 below the first)
METRICS_SHIFT = 1000  # a process's /metrics port, above its gRPC port


def service_target(addresses: list[str]) -> str:
    """A gRPC target for a service's instances: the address itself for one, an `ipv4:` list for several (the
    channel balances round_robin over it)."""
    return addresses[0] if len(addresses) == 1 else "ipv4:" + ",".join(addresses)


def target_addresses(target: str) -> list[str]:
    """The host:port addresses a gRPC target names: `ipv4:a,b` gives both, `dns:///name:port` the name."""
    if target.startswith(("ipv4:", "ipv6:")):
        return [a.removeprefix("//") for a in target.split(":", 1)[1].split(",") if a]
    if target.startswith("dns:"):
        return [target.removeprefix("dns:").lstrip("/").split("/")[-1]]
    return [target]


def local_topology(ports: LocalPorts = LocalPorts(), database: str = "elearning", user: str = "postgres",
                   instances: int = 1) -> dict[str, Any]:
    """The topology document of the local cluster that `elearn up` boots, with `instances` processes per
    service: "services" holds each service's target, "instances" each instance's address."""
    def dsn(port: int) -> str:
        return f"host={ports.host} port={port} dbname={database} user={user}"

    addresses = {name: [f"{ports.host}:{ports.service(name, i)}" for i in range(instances)] for name in SERVICES}

    return {
        "shards": [
            {"name": name, "number": number, "regions": list(regions),
             "primary_dsn": dsn(ports.pg_primary_base + i), "replica_dsn": dsn(ports.pg_replica_base + i),
             "mongo_uri": f"mongodb://{ports.host}:{ports.mongo}/", "mongo_db": f"elearning_{name}"}
            for i, (name, number, regions) in enumerate(DEFAULT_SHARDS)
        ],
        "services": {name: service_target(found) for name, found in addresses.items()},
        "instances": addresses,
        "gateway": f"{ports.host}:{ports.gateway}",
        "metrics": {**{name if i == 0 else f"{name}-{i + 1}": f"{ports.host}:{ports.metrics(name, i)}"
                       for name in SERVICES for i in range(instances)},
                    "gateway": f"{ports.host}:{ports.metrics('gateway')}"},
    }


@dataclass(frozen=True)
class ReplicaLimits:
    """When a replica serves reads: within `max_lag_ms` and `max_lag_bytes` of its primary, as measured every
    `check_ms`; a SESSION read whose token the replica has not replayed waits up to `session_wait_ms` for it."""

    max_lag_ms: int = 2000
    max_lag_bytes: int = 16 * 1024 * 1024
    check_ms: int = 500
    session_wait_ms: int = 10


@dataclass(frozen=True)
class TlsSettings:
    """PEM files: the CA that signs every peer, and this process's own certificate and private key."""

    ca: str
    cert: str
    key: str


@dataclass(frozen=True)
class Settings:
    """Everything one process needs, passed into constructors; nothing reads the environment later."""

    process: str
    listen: str
    shard_map: ShardMap
    service_addresses: Mapping[str, str]
    gateway_address: str
    routes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    log_level: str = "INFO"
    pool_size: int = 16
    max_workers: int = 32
    max_queue: int = 128         # calls waiting for a worker; past max_workers + max_queue a call is shed
    max_queue_wait_ms: int = 500  # nor one that would wait, or while the oldest has waited, this long
    shed_retry_ms: int = 200     # the retry delay a shed call is given (jittered up to twice this)
    # Workers running Python at once (shared.cpu_slots; the others wait on databases or services); 0: no bound.
    cpu_slots: int = 2
    switch_interval_ms: float = 1.0  # how soon a thread waiting for the interpreter lock gets it (Python: 5)
    connect_timeout_s: float = 2.0
    statement_timeout_ms: int = 5000
    lock_timeout_ms: int = 3000
    call_timeout_s: float = 3.0  # deadline of calls from one service to another
    # Calls of this process in flight on one shard: below max_workers, so a stalled shard keeps the rest.
    shard_max_in_flight: int = 12
    shard_stall_ms: int = 250  # a full shard where no call finished for this long refuses new calls at once
    # A write finding no writable node (its leader moving) is held this long for the new one (0: fail at once).
    primary_hold_ms: int = 10000
    hash_workers: int = 2  # passwords of one BatchCreateUsers hashed at once (scrypt: 128 MiB and a core each)
    drain_s: float = 1.0
    grace_s: float = 5.0
    replica_limits: ReplicaLimits = field(default_factory=lambda: ReplicaLimits())
    # Telemetry (shared.telemetry): off only to measure what it costs.
    telemetry: bool = True
    metrics_listen: str = ""         # host:port of /metrics; "" serves none
    trace_dir: str = ""              # spans as JSON lines here when no OTLP endpoint is set; "" exports none
    trace_sample_ratio: float = 0.01  # share of calls traced where a trace starts (the gateway, mostly)
    access_log_sample: float = 1.0   # share of successful calls logged (failed ones always are)
    access_log_max_per_s: int = 100  # access log lines per second at most; 0 switches the access log off
    # The data folder's auth/ directory (keys, jwks.json); without it only anonymous calls are admitted.
    auth_dir: str = ""
    # How often the ended sessions (Logout) are fetched from the users service: a signed-out access token is
    # refused everywhere within this delay (0: never fetched, signed-out tokens live until they expire).
    revocation_poll_s: float = 2.0
    tls: TlsSettings | None = None  # None: plaintext, only when asked for (ELEARN_TLS_INSECURE, --insecure)
    # The service's own PostgreSQL role (ELEARN_PG_USER, ELEARN_PG_PASSWORD_FILE); None: the DSNs' user.
    pg_login: PgLogin | None = None
    # The MongoDB user (ELEARN_MONGO_USER, ELEARN_MONGO_PASSWORD_FILE; authenticated against `admin`); None:
    # as the mongo_uri says (the local stand-in has no users).
    mongo_login: secret_files.Login | None = None


def read_topology(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("ELEARN_CONFIG")
    if path:
        try:
            topology: dict[str, Any] = json.loads(pathlib.Path(path).read_text())
            return topology
        except OSError as exc:
            raise SettingsError(f"ELEARN_CONFIG={path}: cannot read the file ({exc.strerror})") from exc
        except json.JSONDecodeError as exc:
            raise SettingsError(f"ELEARN_CONFIG={path}: not valid JSON ({exc})") from exc
    inline = env.get("ELEARN_TOPOLOGY")
    if inline:
        try:
            inline_topology: dict[str, Any] = json.loads(inline)
            return inline_topology
        except json.JSONDecodeError as exc:
            raise SettingsError(f"ELEARN_TOPOLOGY: not valid JSON ({exc})") from exc
    return local_topology()


def parse_shard_map(topology: Mapping[str, Any]) -> ShardMap:
    entries = topology.get("shards") if isinstance(topology, Mapping) else None
    if not isinstance(entries, list) or not entries:
        raise SettingsError("topology: 'shards' must be a non-empty list of shards")
    try:
        shards = tuple(
            Shard(name=s["name"], number=int(s["number"]), regions=tuple(s["regions"]),
                  primary_dsn=s["primary_dsn"], replica_dsn=s.get("replica_dsn") or s["primary_dsn"],
                  mongo_uri=s.get("mongo_uri", ""), mongo_db=s.get("mongo_db", f"elearning_{s['name']}"))
            for s in entries)
        return ShardMap(shards)
    except KeyError as exc:
        raise SettingsError(f"topology: a shard lacks the key {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"topology: {exc}") from exc


def _number(env: Mapping[str, str], name: str, default: float, kind: type = int, minimum: float = 0) -> Any:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a {kind.__name__}") from None
    if not math.isfinite(value):
        raise SettingsError(f"{name}={raw!r}: must be a finite number")
    if value < 0:
        raise SettingsError(f"{name}={raw!r}: must not be negative")
    if value < minimum:
        raise SettingsError(f"{name}={raw!r}: must be at least {minimum}")
    return value


def _parse_routes(raw: Any, services: Mapping[str, str], shard_map: ShardMap) -> dict[str, dict[str, str]]:
    """The gateway's routing table: service → {region | shard | "default": address}.

    Every service gets its topology address as "default" unless its routes say otherwise (a service may
    deliberately have no default, so a region without a route is UNAVAILABLE).
    """
    if not isinstance(raw, Mapping):
        raise SettingsError("topology: 'routes' must map service names to {region|shard|default: address}")
    keys = {"default", *shard_map.names, *(r for s in shard_map.shards for r in s.regions)}
    routes = {name: {"default": address} for name, address in services.items()}
    for service, table in raw.items():
        if service not in services:
            raise SettingsError(f"topology: routes name an unknown service {service!r}")
        if not isinstance(table, Mapping) or not all(isinstance(v, str) for v in table.values()):
            raise SettingsError(f"topology: routes.{service} must map region, shard or default to an address")
        unknown = set(table) - keys
        if unknown:
            raise SettingsError(f"topology: routes.{service} has unknown key(s) {', '.join(sorted(unknown))}; "
                                f"use a region, a shard name or 'default'")
        routes[service] = dict(table)
    return routes


def tls_settings(process: str, topology: Mapping[str, Any], env: Mapping[str, str]) -> TlsSettings | None:
    """The TLS files of `process` ("client" for tools): ELEARN_TLS_CA/CERT/KEY, else the topology's
    `tls: {ca, cert, key}` or `tls: {ca, dir}` (the local cluster's <data-dir>/tls with <process>.crt and .key,
    one pair per process). Plaintext (None) only
    when ELEARN_TLS_INSECURE=1 or the topology says `tls: {insecure: true}`; no choice at all is an error."""
    flag = (env.get("ELEARN_TLS_INSECURE") or "").lower()
    if flag not in ("", "0", "1", "true", "false"):
        raise SettingsError(f"ELEARN_TLS_INSECURE={flag!r}: expected 1 or 0")
    section = topology.get("tls") if isinstance(topology, Mapping) else None
    if section is not None and not isinstance(section, Mapping):
        raise SettingsError("topology: 'tls' must be {ca, dir} or {insecure: true}")
    section = section or {}
    if flag in ("1", "true") or (flag == "" and section.get("insecure") is True):
        return None
    folder = section.get("dir")
    files = {"ca": env.get("ELEARN_TLS_CA") or section.get("ca"),
             "cert": env.get("ELEARN_TLS_CERT") or section.get("cert") or (folder and f"{folder}/{process}.crt"),
             "key": env.get("ELEARN_TLS_KEY") or section.get("key") or (folder and f"{folder}/{process}.key")}
    missing = [f"ELEARN_TLS_{name.upper()}" for name, path in files.items() if not path]
    if missing:
        raise SettingsError(f"no TLS files: set {', '.join(missing)} (or the topology's tls), "
                            f"or ELEARN_TLS_INSECURE=1 for plaintext")
    # The files are read when the server starts (shared.channels), which names one that is missing.
    return TlsSettings(ca=str(files["ca"]), cert=str(files["cert"]), key=str(files["key"]))


def load_settings(process: str, env: Mapping[str, str] | None = None) -> Settings:
    """Build the settings of `process` (a service name or "gateway") from the environment; every default is
    the one `Settings` (or `ReplicaLimits`) declares."""
    env = os.environ if env is None else env
    topology = read_topology(env)
    shard_map = parse_shard_map(topology)
    services = topology.get("services", {})
    if not isinstance(services, Mapping) or not all(isinstance(v, str) for v in services.values()):
        raise SettingsError("topology: 'services' must map each service name to a host:port address")
    missing = [s for s in SERVICES if s not in services]
    if missing:
        raise SettingsError(f"topology: no address for service(s) {', '.join(missing)}")
    gateway = topology.get("gateway", "127.0.0.1:50051")
    routes = _parse_routes(topology.get("routes", {}), services, shard_map)
    default_listen = gateway if process == "gateway" else services.get(process)
    if default_listen is None:
        raise SettingsError(f"unknown process {process!r}; expected gateway or one of {', '.join(SERVICES)}")
    if len(target_addresses(default_listen)) > 1 and not env.get("ELEARN_LISTEN"):
        raise SettingsError(f"topology: {process} has several instances ({default_listen}); set ELEARN_LISTEN "
                            "to the address this one listens on")
    level = (env.get("ELEARN_LOG_LEVEL") or Settings.log_level).upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(f"ELEARN_LOG_LEVEL={level!r}: expected DEBUG, INFO, WARNING or ERROR")
    metrics = topology.get("metrics", {})
    if not isinstance(metrics, Mapping) or not all(isinstance(v, str) for v in metrics.values()):
        raise SettingsError("topology: 'metrics' must map process names to the host:port of their /metrics")
    switch = (env.get("ELEARN_TELEMETRY") or "on").lower()
    if switch not in ("on", "off"):
        raise SettingsError(f"ELEARN_TELEMETRY={switch!r}: expected on or off")
    return Settings(
        process=process,
        listen=env.get("ELEARN_LISTEN") or default_listen,
        shard_map=shard_map,
        service_addresses=services,
        gateway_address=gateway,
        routes=routes,
        log_level=level,
        pool_size=_number(env, "ELEARN_POOL_SIZE", Settings.pool_size, minimum=1),
        max_workers=_number(env, "ELEARN_MAX_WORKERS", Settings.max_workers, minimum=1),
        max_queue=_number(env, "ELEARN_MAX_QUEUE", Settings.max_queue),
        max_queue_wait_ms=_number(env, "ELEARN_MAX_QUEUE_WAIT_MS", Settings.max_queue_wait_ms),
        shed_retry_ms=_number(env, "ELEARN_SHED_RETRY_MS", Settings.shed_retry_ms, minimum=1),
        cpu_slots=_number(env, "ELEARN_CPU_SLOTS", Settings.cpu_slots),
        switch_interval_ms=_number(env, "ELEARN_SWITCH_INTERVAL_MS", Settings.switch_interval_ms, float,
                                   minimum=0.01),
        connect_timeout_s=_number(env, "ELEARN_CONNECT_TIMEOUT_S", Settings.connect_timeout_s, float),
        statement_timeout_ms=_number(env, "ELEARN_STATEMENT_TIMEOUT_MS", Settings.statement_timeout_ms),
        lock_timeout_ms=_number(env, "ELEARN_LOCK_TIMEOUT_MS", Settings.lock_timeout_ms),
        call_timeout_s=_number(env, "ELEARN_CALL_TIMEOUT_S", Settings.call_timeout_s, float),
        shard_max_in_flight=_number(env, "ELEARN_SHARD_MAX_IN_FLIGHT", Settings.shard_max_in_flight, minimum=1),
        shard_stall_ms=_number(env, "ELEARN_SHARD_STALL_MS", Settings.shard_stall_ms),
        primary_hold_ms=_number(env, "ELEARN_PRIMARY_HOLD_MS", Settings.primary_hold_ms),
        hash_workers=_number(env, "ELEARN_HASH_WORKERS", Settings.hash_workers, minimum=1),
        drain_s=_number(env, "ELEARN_DRAIN_S", Settings.drain_s, float),
        grace_s=_number(env, "ELEARN_GRACE_S", Settings.grace_s, float),
        replica_limits=ReplicaLimits(
            max_lag_ms=_number(env, "ELEARN_REPLICA_MAX_LAG_MS", ReplicaLimits.max_lag_ms),
            max_lag_bytes=_number(env, "ELEARN_REPLICA_MAX_LAG_BYTES", ReplicaLimits.max_lag_bytes),
            check_ms=_number(env, "ELEARN_REPLICA_CHECK_MS", ReplicaLimits.check_ms, minimum=10),
            session_wait_ms=_number(env, "ELEARN_SESSION_WAIT_MS", ReplicaLimits.session_wait_ms)),
        telemetry=switch == "on",
        metrics_listen=env.get("ELEARN_METRICS_LISTEN") or metrics.get(process, ""),
        trace_dir=env.get("ELEARN_TRACE_DIR", ""),
        trace_sample_ratio=_ratio(env, "ELEARN_TRACE_SAMPLE_RATIO", 0.01),
        access_log_sample=_ratio(env, "ELEARN_ACCESS_LOG_SAMPLE", 1.0),
        access_log_max_per_s=_number(env, "ELEARN_ACCESS_LOG_MAX_PER_S", 100),
        auth_dir=_auth_dir(env),
        revocation_poll_s=_number(env, "ELEARN_REVOCATION_POLL_S", Settings.revocation_poll_s, float),
        tls=tls_settings(process, topology, env),
        pg_login=_login(lambda: login_from_env(env)),
        mongo_login=_login(lambda: secret_files.login_from_env(env, "ELEARN_MONGO_USER", "ELEARN_MONGO_PASSWORD_FILE")),
    )


_L = TypeVar("_L")


def _login(read: Callable[[], _L]) -> _L:
    try:
        return read()
    except secret_files.LoginError as exc:
        raise SettingsError(str(exc)) from exc


def _ratio(env: Mapping[str, str], name: str, default: float) -> float:
    value: float = _number(env, name, default, float)
    if value > 1:
        raise SettingsError(f"{name}={env[name]!r}: must be between 0 and 1")
    return value


def _auth_dir(env: Mapping[str, str]) -> str:
    raw = env.get("ELEARN_AUTH_DIR") or ""
    if raw and not (pathlib.Path(raw) / "jwks.json").is_file():
        raise SettingsError(f"ELEARN_AUTH_DIR={raw!r}: no jwks.json there (`elearn up` makes the keys)")
    return raw
