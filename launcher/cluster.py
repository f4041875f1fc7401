"""Boot, stop and inspect the embedded local cluster described by a Layout."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable

from launcher import postgres
from launcher.certs import Authority
from launcher.components import GATEWAY, SERVICES, Component
from launcher.layout import NODES, SHARD_NAMES, Layout
from launcher.migrate import migrate_all
from launcher.nodes import Handover, Nodes
from launcher.processes import (PortHold, ProcessTable, health_status, mongo_spec, port_is_free, service_spec,
                                supervised, wait_for_port, wait_serving)
from shared.settings import parse_shard_map

ROLES = ("primary", "replica")
SERVING_TIMEOUT_S = 120
START_ATTEMPTS = 3


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
        return {**inherited, "ELEARN_CONFIG": str(self.layout.topology_file)}

    def _components(self) -> list[Component]:
        return [*SERVICES, GATEWAY]

    def _port_of(self, component: Component) -> int:
        return self.layout.ports.gateway if component is GATEWAY else self.layout.ports.service(component.name)

    def running_parts(self) -> dict[str, bool]:
        parts = self.nodes.running()
        parts["mongo"] = self.processes.alive("mongo") is not None
        parts.update({c.name: self.processes.alive(c.name) is not None for c in self._components()})
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
        self.nodes.start(result.started)
        self.layout.save_topology()  # the nodes in the roles Patroni gave them
        applied = migrate_all(parse_shard_map(self.layout.topology()))
        if any(applied.values()):
            self.say("  schema: " + "; ".join(f"{s}: {len(v)} migration(s)" for s, v in applied.items()))
        self._up_mongo(result)
        for component in self._components():
            self._up_component(component, result)
        result.seconds = time.monotonic() - begin
        return result

    def make_certificates(self) -> None:
        """The CA and a certificate per process and one for tools and tests (kept on warm starts)."""
        authority = Authority(self.layout.tls_dir)
        for name in [c.name for c in self._components()] + ["client"]:
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

    def stop_mongo(self) -> bool:
        """Stop the MongoDB stand-in alone (tests of a MongoDB outage); its data stays."""
        return self.processes.stop("mongo")

    def start_mongo(self) -> None:
        """Start the MongoDB stand-in again after `stop_mongo`; a no-op when it runs."""
        self._up_mongo(UpResult())

    def stop_service(self, name: str) -> bool:
        """Stop one service process alone (tests of a dependency outage); its supervisor first, so it stays down."""
        return self.processes.stop(name)

    def start_service(self, name: str) -> None:
        """Start one service again after `stop_service` and wait until it is SERVING, itself and (when the
        gateway runs) through the gateway, whose health follows its backends."""
        component = next(c for c in self._components() if c.name == name)
        self._up_component(component, UpResult())
        if self.processes.alive(GATEWAY.name):
            gateway = f"{self.layout.ports.host}:{self.layout.ports.gateway}"
            for service in component.health_names:
                if not wait_serving(gateway, service, 15, tls=self.layout.client_tls()):
                    raise ClusterError(f"the gateway does not report {service} SERVING again")

    def _up_component(self, component: Component, result: UpResult) -> None:
        if self.processes.alive(component.name):
            return
        port = self._port_of(component)
        address = f"{self.layout.ports.host}:{port}"
        for attempt in range(1, START_ATTEMPTS + 1):
            self.processes.start(supervised(service_spec(component.name, component.module, port), self.layout.run),
                                 self.process_env())
            began = time.monotonic()
            # Generous: on the shared 2-core machine (load 25 and more) a service's imports alone took over 60 s.
            if all(wait_serving(address, name, SERVING_TIMEOUT_S,
                                alive=lambda: self.processes.alive(component.name) is not None,
                                tls=self.layout.client_tls())
                   for name in component.health_names):
                break
            running = self.processes.alive(component.name) is not None
            ended = "still running" if running else self.processes.how_it_ended(component.name)
            if running or attempt == START_ATTEMPTS:
                raise ClusterError(f"{component.name} did not report SERVING on {address} after "
                                   f"{time.monotonic() - began:.1f} s ({ended}); its log ends:\n"
                                   + self.processes.log_tail(component.name))
            # Seen in full test runs: a process killed by a signal before its first line of output (PIDs wrap
            # at 32768 here, so a stale PID signalled elsewhere can be this new one). Its supervisor restarts a
            # killed service; this covers the supervisor itself.
            self.say(f"  {component.name} ended before it served ({ended}); starting it again")
        result.started.append(component.name)

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
        for component in reversed(self._components()):
            if self.processes.stop(component.name):
                stopped.append(component.name)
        if self.processes.stop("mongo"):
            stopped.append("mongo")
        stopped += self.nodes.stop()
        return stopped

    # ---- status --------------------------------------------------------------------------------
    def endpoints(self) -> list[tuple[str, str]]:
        rows = [("gateway", f"{self.layout.ports.host}:{self.layout.ports.gateway}")]
        rows += [(c.name, f"{self.layout.ports.host}:{self.layout.ports.service(c.name)}") for c in SERVICES]
        rows.append(("mongo", f"mongodb://{self.layout.ports.host}:{self.layout.ports.mongo}/"))
        for shard in SHARD_NAMES:
            for role in ROLES:
                rows.append((f"postgres {shard} {role}", postgres.dsn(self.layout.pg_port(shard, role))))
        return rows

    def status(self) -> list[dict]:
        """One row per component: what it is, whether it runs, its restarts by its supervisor, and for replicas
        their replay lag."""
        rows = []
        for component in self._components():
            address = f"{self.layout.ports.host}:{self._port_of(component)}"
            row = self._process_row(component.name, address)
            row["health"] = (health_status(address, component.health_names[0], tls=self.layout.client_tls())
                             if row["pid"] else "-")
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
    return port_name.removesuffix(" rest").removesuffix(" peer")

