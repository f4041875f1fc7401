"""Boot, stop and inspect the embedded local cluster described by a Layout."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable

import psycopg2

from launcher import postgres
from launcher.failover import FailoverResult, failover
from launcher.components import GATEWAY, SERVICES, Component
from launcher.layout import NODES, SHARD_NAMES, Layout
from launcher.migrate import migrate_all
from launcher.processes import (PortHold, ProcessTable, health_status, mongo_spec, port_is_free, service_spec,
                                wait_for_port, wait_serving)
from launcher.replication import node_facts
from shared.settings import parse_shard_map

ROLES = ("primary", "replica")


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

    # ---- queries -------------------------------------------------------------------------------
    def process_env(self) -> dict[str, str]:
        return {**os.environ, "ELEARN_CONFIG": str(self.layout.topology_file)}

    def _pg_running(self, shard: str, role: str) -> bool:
        return postgres.is_running(self.layout.pg_dir(shard, role))

    def _components(self) -> list[Component]:
        return [*SERVICES, GATEWAY]

    def _port_of(self, component: Component) -> int:
        return self.layout.ports.gateway if component is GATEWAY else self.layout.ports.service(component.name)

    def running_parts(self) -> dict[str, bool]:
        parts = {f"postgres {s} {r}": self._pg_running(s, r) for s in SHARD_NAMES for r in ROLES}
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
                if not running.get(name, False) and not port_is_free(port)]
        if busy:
            raise ClusterError("cannot start: in use by another program: " + ", ".join(busy) +
                               ". Stop it, or choose other ports with --port-offset (or --gateway-port).")
        for shard, node in self.layout.adopt_legacy_dirs():
            postgres.name_node(self.layout.node_dir(shard, node), self.layout.standby_name(shard, node))
        self.layout.save()
        result.cold = not postgres.is_initialized(self.layout.pg_dir(SHARD_NAMES[0], "primary"))
        for shard in SHARD_NAMES:
            self._up_shard(shard, result)
        applied = migrate_all(parse_shard_map(self.layout.topology()))
        if any(applied.values()):
            self.say("  schema: " + "; ".join(f"{s}: {len(v)} migration(s)" for s, v in applied.items()))
        self._up_mongo(result)
        for component in self._components():
            self._up_component(component, result)
        result.seconds = time.monotonic() - begin
        return result

    def _up_shard(self, shard: str, result: UpResult) -> None:
        layout = self.layout
        primary_node = layout.node(shard, "primary")
        primary, primary_port = layout.node_dir(shard, primary_node), layout.node_port(shard, primary_node)
        log_dir = layout.pg_root / "logs"
        if not postgres.is_initialized(primary):
            self.say(f"  postgres {shard} primary: initdb")
            postgres.init_primary(primary, primary_port, layout.socket_dir, layout.standby_name(shard, primary_node))
        if not postgres.is_running(primary):
            postgres.own(layout.socket_dir)
            postgres.start(primary, log_dir / f"{shard}-{primary_node}.log", layout.socket_dir)
            postgres.create_database(primary_port)
            result.started.append(f"postgres {shard} primary")
        self.start_replica(shard, result)
        self.apply_replication_mode(shard)

    def start_replica(self, shard: str, result: UpResult | None = None) -> None:
        """Start the shard's replica, first made from the primary by pg_basebackup when it has no data."""
        layout = self.layout
        node = layout.node(shard, "replica")
        data, port = layout.node_dir(shard, node), layout.node_port(shard, node)
        if postgres.is_initialized(data) and not postgres.is_standby(data) and not postgres.is_running(data):
            # The old primary of a failover that stopped before rebuilding it: its data is the old timeline's.
            self.say(f"  postgres {shard} replica: {data.name} holds a primary's data; rebuilding it")
            postgres.remove_data(data)
        if not postgres.is_initialized(data):
            self.say(f"  postgres {shard} replica: pg_basebackup from the primary")
            postgres.init_replica(data, port, layout.pg_port(shard, "primary"), slot=f"replica_{shard}",
                                  name=layout.standby_name(shard, node))
        if not postgres.is_running(data):
            postgres.start(data, layout.pg_root / "logs" / f"{shard}-{node}.log", layout.socket_dir)
            if result is not None:
                result.started.append(f"postgres {shard} replica")

    def apply_replication_mode(self, shard: str) -> None:
        """Sync mode: once the replica streams, commits on either node wait for the other to flush."""
        layout = self.layout
        names = [layout.standby_name(shard, node) for node in NODES] if layout.replication == "sync" else []
        if names and not postgres.wait_streaming(layout.pg_port(shard, "primary"),
                                                 layout.standby_name(shard, layout.node(shard, "replica")), 60):
            raise ClusterError(f"the {shard} replica does not stream from its primary; see "
                               f"{layout.pg_root / 'logs'}")
        for role in ROLES:
            postgres.set_synchronous_standbys(layout.pg_port(shard, role), names)

    def _up_mongo(self, result: UpResult) -> None:
        if self.processes.alive("mongo"):
            return
        self.layout.mongo_dir.mkdir(parents=True, exist_ok=True)
        spec = mongo_spec(self.layout.mongo_dir, self.layout.logs / "mongo-commands.log", self.layout.ports.mongo)
        self.processes.start(spec, self.process_env())
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
        """Stop one service process alone (tests of a dependency outage)."""
        return self.processes.stop(name)

    def start_service(self, name: str) -> None:
        """Start one service again after `stop_service` and wait until it is SERVING, itself and (when the
        gateway runs) through the gateway, whose health follows its backends."""
        component = next(c for c in self._components() if c.name == name)
        self._up_component(component, UpResult())
        if self.processes.alive(GATEWAY.name):
            gateway = f"{self.layout.ports.host}:{self.layout.ports.gateway}"
            for service in component.health_names:
                if not wait_serving(gateway, service, 15):
                    raise ClusterError(f"the gateway does not report {service} SERVING again")

    def _up_component(self, component: Component, result: UpResult) -> None:
        if self.processes.alive(component.name):
            return
        port = self._port_of(component)
        self.processes.start(service_spec(component.name, component.module, port), self.process_env())
        address = f"{self.layout.ports.host}:{port}"
        for name in component.health_names:
            if not wait_serving(address, name, 60, alive=lambda: self.processes.alive(component.name) is not None):
                raise ClusterError(f"{component.name} did not report SERVING on {address}; its log ends:\n"
                                   + self.processes.log_tail(component.name))
        result.started.append(component.name)

    # ---- failover ------------------------------------------------------------------------------
    def failover(self, shard: str) -> FailoverResult:
        """Promote the shard's replica and rebuild the old primary as its replica (see launcher.failover)."""
        with PortHold(self.layout.all_ports().values(), self.layout.ports.host):
            return failover(self.layout, shard, start_replica=self.start_replica,
                            apply_replication_mode=self.apply_replication_mode, say=self.say)

    # ---- down ----------------------------------------------------------------------------------
    def down(self) -> list[str]:
        stopped = []
        for component in reversed(self._components()):
            if self.processes.stop(component.name):
                stopped.append(component.name)
        if self.processes.stop("mongo"):
            stopped.append("mongo")
        for role in ("replica", "primary"):
            for shard in SHARD_NAMES:
                data = self.layout.pg_dir(shard, role)
                if postgres.is_running(data):
                    postgres.stop(data)
                    stopped.append(f"postgres {shard} {role}")
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
        """One row per component: what it is, whether it runs, and for replicas their replay lag."""
        rows = []
        for component in self._components():
            pid = self.processes.alive(component.name)
            address = f"{self.layout.ports.host}:{self._port_of(component)}"
            health = health_status(address, component.health_names[0]) if pid else "-"
            rows.append({"component": component.name, "pid": pid, "address": address,
                         "state": "running" if pid else "stopped", "health": health})
        pid = self.processes.alive("mongo")
        rows.append({"component": "mongo", "pid": pid, "address": f"127.0.0.1:{self.layout.ports.mongo}",
                     "state": "running" if pid else "stopped", "health": "-"})
        for shard in SHARD_NAMES:
            rows.extend(self._shard_status(shard))
        return rows

    def _shard_status(self, shard: str) -> list[dict]:
        rows, primary = [], None
        for role in ROLES:
            port = self.layout.pg_port(shard, role)
            row = {"component": f"postgres {shard} {role}", "pid": None, "address": f"127.0.0.1:{port}",
                   "state": "stopped", "health": "-"}
            if postgres.is_running(self.layout.pg_dir(shard, role)):
                row["state"] = "running"
                try:
                    node, facts = node_facts(postgres.dsn(port), primary)
                except psycopg2.Error as exc:
                    row["health"] = f"unreachable: {str(exc).strip().splitlines()[0]}"
                else:
                    if facts["role"] == "primary":
                        primary = node
                    row.update(facts)
            rows.append(row)
        return rows
