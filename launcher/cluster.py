"""Boot, stop and inspect the embedded local cluster described by a Layout."""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from launcher import pg_roles, postgres, prometheus
from launcher.certs import Authority
from launcher.components import GATEWAY, SERVICES, Component, Instance, instances_of
from launcher.layout import NODES, SHARD_NAMES, Layout
from launcher.migrate import migrate_all
from launcher.nodes import Handover, Nodes
from launcher.processes import (
    PortHold,
    ProcessTable,
    health_status,
    mongo_spec,
    port_is_free,
    service_spec,
    supervised,
    wait_for_port,
    wait_serving,
)
from shared.auth import keys
from shared.pg.login import PG_SERVICES, role_of
from shared.settings import parse_shard_map

ROLES = ("primary", "replica")
SERVING_TIMEOUT_S = 120
START_ATTEMPTS = 3
# Who gets a signing key: people's tokens (the users service), each service's own identity, the gateway's (its
# proof of the client address it forwards) and the single-sign-on bridge (the one identity for ExchangeToken).
AUTH_SIGNERS = (keys.PEOPLE, *(keys.service_signer(c.name) for c in SERVICES), keys.service_signer("gateway"),
                keys.service_signer("sso"))


class ClusterError(RuntimeError):
    pass


@dataclass
class UpResult:
    started: list[str] = field(default_factory=list)
    already_running: bool = False
    cold: bool = False
    seconds: float = 0.0


class Cluster:
    def __init__(self, layout: Layout, say: Callable[[str], None] = print):
        self.layout = layout
        self.say = say
        self.processes = ProcessTable(layout.run, layout.logs)
        self.nodes = Nodes(layout, self.processes, say)

    # ---- queries -------------------------------------------------------------------------------
    def process_env(self) -> dict[str, str]:
        # The topology alone says TLS or plaintext, whatever the caller's environment holds.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("ELEARN_TLS_")}
        return {**inherited, "ELEARN_CONFIG": str(self.layout.topology_file),
                "ELEARN_TRACE_DIR": str(self.layout.data_dir / "traces"),
                "ELEARN_AUTH_DIR": str(self.layout.auth_dir)}

    def _instances(self, components: list[Component] | None = None) -> list[Instance]:
        """Every process that serves gRPC: `layout.instances` per service, then the gateway."""
        return [i for c in (components or [*SERVICES, GATEWAY]) for i in instances_of(c, self.layout.instances)]

    def _port_of(self, instance: Instance) -> int:
        if instance.component is GATEWAY:
            return self.layout.ports.gateway
        return self.layout.ports.service(instance.component.name, instance.index)

    def _address_of(self, instance: Instance) -> str:
        return f"{self.layout.ports.host}:{self._port_of(instance)}"

    def _metrics_address_of(self, instance: Instance) -> str:
        return f"{self.layout.ports.host}:{self.layout.ports.metrics(instance.component.name, instance.index)}"

    def instance_names(self, service: str) -> list[str]:
        """The process names of a service's instances ("users", "users-2", ...)."""
        return [i.name for i in self._instances() if i.component.name == service]

    def running_parts(self) -> dict[str, bool]:
        parts = self.nodes.running()
        parts["mongo"] = self.processes.alive("mongo") is not None
        parts.update({i.name: self.processes.alive(i.name) is not None for i in self._instances()})
        return parts

    # ---- up ------------------------------------------------------------------------------------
    def up(self) -> UpResult:
        with PortHold(self.layout.all_ports().values(), self.layout.ports.host):
            return self._up()

    def _up(self) -> UpResult:
        begin = time.monotonic()
        result = UpResult()
        running = self.running_parts()
        if all(running.values()):
            result.already_running = True
            return result
        busy = [f"{name} port {port}" for name, port in self.layout.all_ports().items()
                if not running.get(_part(name), False) and not port_is_free(port)]
        if busy:
            raise ClusterError("cannot start: in use by another program: " + ", ".join(busy) +
                               ". Stop it, or choose other ports with --port-offset (or --gateway-port).")
        result.cold = not any(postgres.is_initialized(self.layout.node_dir(s, n)) for s in SHARD_NAMES for n in NODES)
        self.make_certificates()
        self.layout.save()
        keys.ensure_keys(self.layout.auth_dir, AUTH_SIGNERS)
        self.nodes.start(result.started)
        self.layout.save_topology()  # the nodes in the roles Patroni gave them
        shard_map = parse_shard_map(self.layout.topology())
        applied = migrate_all(shard_map)
        if any(applied.values()):
            self.say("  schema: " + "; ".join(f"{s}: {len(v)} migration(s)" for s, v in applied.items()))
        pg_roles.after_migrations(shard_map, pg_roles.local_passwords(self.layout.secrets_dir))
        self._up_mongo(result)
        self._up_instances(self._instances(list(SERVICES)), result)
        self._up_instances(self._instances([GATEWAY]), result)
        result.seconds = time.monotonic() - begin
        return result

    def make_certificates(self) -> None:
        """The CA and a certificate per process and one for tools and tests (kept on warm starts)."""
        authority = Authority(self.layout.tls_dir)
        for name in [c.name for c in [*SERVICES, GATEWAY]] + ["client"]:
            authority.issue(name)

    def _up_mongo(self, result: UpResult) -> None:
        if self.processes.alive("mongo"):
            return
        self.layout.mongo_dir.mkdir(parents=True, exist_ok=True)
        spec = mongo_spec(self.layout.mongo_dir, self.layout.logs / "mongo-commands.log", self.layout.ports.mongo)
        self.processes.start(supervised(spec, self.layout.run), self.process_env())
        if not wait_for_port(spec.port, 30):
            raise ClusterError("the MongoDB stand-in (nx-27017) did not start:\n" + self.processes.log_tail("mongo"))
        result.started.append("mongo")

    def up_prometheus(self) -> str:
        """Start Debian's Prometheus scraping every process (a no-op when it runs); returns its address."""
        address = f"{self.layout.ports.host}:{self.layout.ports.prometheus}"
        if self.processes.alive("prometheus"):
            return address
        spec = prometheus.spec(self.layout)
        self.processes.start(spec, self.process_env())
        if not wait_for_port(spec.port, 30):
            raise ClusterError("Prometheus did not start:\n" + self.processes.log_tail("prometheus"))
        return address

    def stop_mongo(self) -> bool:
        """Stop the MongoDB stand-in alone (tests of a MongoDB outage); its data stays."""
        return self.processes.stop("mongo")

    def start_mongo(self) -> None:
        """Start the MongoDB stand-in again after `stop_mongo`; a no-op when it runs."""
        self._up_mongo(UpResult())

    def stop_service(self, name: str) -> bool:
        """Stop every instance of one service (tests of a dependency outage); each one's supervisor first, so
        it stays down."""
        return any([self.processes.stop(instance) for instance in self.instance_names(name)])

    def start_service(self, name: str) -> None:
        """Start a service's instances again after `stop_service` and wait until they are SERVING, themselves
        and (when the gateway runs) through the gateway, whose health follows its backends."""
        component = next(c for c in SERVICES if c.name == name)
        self._up_instances(self._instances([component]), UpResult())
        if self.processes.alive(GATEWAY.name):
            gateway = f"{self.layout.ports.host}:{self.layout.ports.gateway}"
            for service in component.health_names:
                if not wait_serving(gateway, service, 15, tls=self.layout.client_tls()):
                    raise ClusterError(f"the gateway does not report {service} SERVING again")

    def _up_instances(self, instances: list[Instance], result: UpResult) -> None:
        """Start every instance that is not running, all at once (a service's imports take seconds), then wait
        for each to serve."""
        starting = [i for i in instances if not self.processes.alive(i.name)]
        for instance in starting:
            self._start(instance)
        for instance in starting:
            self._wait_serving(instance)
            result.started.append(instance.name)

    def _start(self, instance: Instance) -> None:
        spec = service_spec(instance.name, instance.component.module, self._port_of(instance))
        env = {**self.process_env(), "ELEARN_LISTEN": self._address_of(instance),
               "ELEARN_METRICS_LISTEN": self._metrics_address_of(instance)}
        service = instance.component.name
        if service in PG_SERVICES:  # its own PostgreSQL role, never the admin's
            env.update(ELEARN_PG_USER=role_of(service),
                       ELEARN_PG_PASSWORD_FILE=str(pg_roles.password_file(self.layout.secrets_dir, service)))
        self.processes.start(supervised(spec, self.layout.run), env)

    def _wait_serving(self, instance: Instance) -> None:
        address, name = self._address_of(instance), instance.name
        for attempt in range(1, START_ATTEMPTS + 1):
            began = time.monotonic()
            # Generous: on the shared 2-core machine (load 25 and more) a service's imports alone took over 60 s.
            if all(wait_serving(address, health_name, SERVING_TIMEOUT_S,
                                alive=lambda: self.processes.alive(name) is not None,
                                tls=self.layout.client_tls())
                   for health_name in instance.component.health_names):
                return
            running = self.processes.alive(name) is not None
            ended = "still running" if running else self.processes.how_it_ended(name)
            if running or attempt == START_ATTEMPTS:
                raise ClusterError(f"{name} did not report SERVING on {address} after "
                                   f"{time.monotonic() - began:.1f} s ({ended}); its log ends:\n"
                                   + self.processes.log_tail(name))
            # Seen in full test runs: a process killed by a signal before its first line of output (PIDs wrap
            # at 32768 here, so a stale PID signalled elsewhere can be this new one). Its supervisor restarts a
            # killed service; this covers the supervisor itself.
            self.say(f"  {name} ended before it served ({ended}); starting it again")
            self._start(instance)

    # ---- shards ------------------------------------------------------------------------------
    def switchover(self, shard: str) -> Handover:
        return self.nodes.switchover(shard)

    def failover(self, shard: str) -> Handover:
        return self.nodes.failover(shard)

    def stop_node(self, shard: str, role: str) -> str:
        """Stop the Patroni (and so the PostgreSQL) of the node that has `role` now; returns the node."""
        node = self.layout.node(shard, role)
        self.nodes.stop_node(shard, node)
        return node

    def start_node(self, shard: str, node: str) -> None:
        """Start a node stopped by `stop_node` and wait until its shard is whole again."""
        self.nodes.start_node(shard, node)
        self.nodes.wait_ready(shard)

    def apply_replication_mode(self, shard: str) -> None:
        self.nodes.apply_replication_mode(shard)

    # ---- down ----------------------------------------------------------------------------------
    def down(self) -> list[str]:
        stopped = []
        stopped += self.processes.stop_all([i.name for i in self._instances() if i.component is GATEWAY])
        stopped += self.processes.stop_all([i.name for i in self._instances() if i.component is not GATEWAY])
        for name in ("prometheus", "mongo"):
            if self.processes.stop(name):
                stopped.append(name)
        stopped += self.nodes.stop()
        return stopped

    # ---- status --------------------------------------------------------------------------------
    def endpoints(self) -> list[tuple[str, str]]:
        rows = [("gateway", f"{self.layout.ports.host}:{self.layout.ports.gateway}")]
        rows += [(i.name, self._address_of(i)) for i in self._instances(list(SERVICES))]
        rows += [(f"{i.name} metrics", f"http://{self._metrics_address_of(i)}/metrics") for i in self._instances()]
        rows.append(("mongo", f"mongodb://{self.layout.ports.host}:{self.layout.ports.mongo}/"))
        for shard in SHARD_NAMES:
            for role in ROLES:
                rows.append((f"postgres {shard} {role}", postgres.dsn(self.layout.pg_port(shard, role))))
        return rows

    def status(self) -> list[dict]:
        """One row per component: what it is, whether it runs, its restarts by its supervisor, and for replicas
        their replay lag."""
        rows = []
        for instance in self._instances():
            address = self._address_of(instance)
            row = self._process_row(instance.name, address)
            row["health"] = (health_status(address, instance.component.health_names[0], tls=self.layout.client_tls())
                             if row["pid"] else "-")
            row["metrics"] = f"http://{self._metrics_address_of(instance)}/metrics"
            rows.append(row)
        rows.append({**self._process_row("mongo", f"127.0.0.1:{self.layout.ports.mongo}"), "health": "-"})
        for shard in SHARD_NAMES:
            rows.extend(self.nodes.status_rows(shard))
        return rows


    def _process_row(self, name: str, address: str) -> dict:
        """A supervised process is "restarting" while its supervisor waits out a backoff, and "gave-up" once
        its supervisor stopped trying (then it is stopped)."""
        pid = self.processes.worker(name)
        supervision = self.processes.supervision(name)
        if pid:
            state = "running"
        elif self.processes.alive(name):
            state = "restarting"
        else:
            state = "gave-up" if supervision.get("state") == "gave-up" else "stopped"
        return {"component": name, "pid": pid, "address": address, "state": state,
                "restarts": supervision.get("restarts", 0)}


def _part(port_name: str) -> str:
    """The part that owns a port of Layout.all_ports: a node's Patroni owns its REST port; etcd its peer port."""
    return port_name.removesuffix(" rest").removesuffix(" peer").removesuffix(" metrics")

