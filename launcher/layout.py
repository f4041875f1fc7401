"""Where the local cluster keeps its files and which ports it uses, recorded in <data-dir>/cluster.json.

Each shard has two PostgreSQL nodes, "a" (first port range) and "b" (second). Which one is the primary is
recorded in <data-dir>/roles.json (node "a" until a failover says otherwise), and the topology file the
services read names them in their current roles.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pathlib
import stat
from dataclasses import dataclass

from shared.settings import DEFAULT_SHARDS, SERVICES, LocalPorts, local_topology

SHARD_NAMES = tuple(name for name, _number, _regions in DEFAULT_SHARDS)
NODES = ("a", "b")
REPLICATION_MODES = ("sync", "async")


def default_data_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("ELEARN_DATA_DIR") or ".elearn").resolve()


def postgres_can_reach(path: pathlib.Path) -> bool:
    """Whether an unprivileged user can traverse every folder above `path` (a root-only home cannot)."""
    for folder in [path, *path.parents]:
        if folder.exists() and not folder.stat().st_mode & stat.S_IXOTH:
            return False
    return True


@dataclass(frozen=True)
class Layout:
    data_dir: pathlib.Path
    ports: LocalPorts
    pg_root: pathlib.Path
    replication: str = "sync"  # sync: a commit returns once the replica has the WAL too; async: at once

    @classmethod
    def create(cls, data_dir: pathlib.Path, ports: LocalPorts) -> "Layout":
        """A new layout; PostgreSQL's folders go where its system user can reach them."""
        pg_root = data_dir / "pg"
        if os.geteuid() == 0 and not postgres_can_reach(data_dir):
            digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
            pg_root = pathlib.Path("/var/tmp") / f"elearn-pg-{digest}"
        return cls(data_dir, ports, pg_root)

    @classmethod
    def load(cls, data_dir: pathlib.Path) -> "Layout | None":
        record = data_dir / "cluster.json"
        if not record.exists():
            return None
        body = json.loads(record.read_text())
        return cls(data_dir, LocalPorts(**body["ports"]), pathlib.Path(body["pg_root"]),
                   body.get("replication", "sync"))

    def save(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        body = {"ports": dataclasses.asdict(self.ports), "pg_root": str(self.pg_root),
                "replication": self.replication}
        (self.data_dir / "cluster.json").write_text(json.dumps(body, indent=2) + "\n")
        self.save_topology()

    def topology(self) -> dict:
        """The local topology with each shard's nodes in their current roles."""
        doc = local_topology(self.ports)
        for shard in doc["shards"]:
            if self.primary_node(shard["name"]) != NODES[0]:
                shard["primary_dsn"], shard["replica_dsn"] = shard["replica_dsn"], shard["primary_dsn"]
        return doc

    def save_topology(self) -> None:
        self.topology_file.write_text(json.dumps(self.topology(), indent=2) + "\n")

    # ---- nodes and roles -----------------------------------------------------------------------
    @property
    def roles_file(self) -> pathlib.Path:
        return self.data_dir / "roles.json"

    def primary_node(self, shard: str) -> str:
        if self.roles_file.exists():
            return json.loads(self.roles_file.read_text()).get(shard, NODES[0])
        return NODES[0]

    def set_primary_node(self, shard: str, node: str) -> None:
        roles = json.loads(self.roles_file.read_text()) if self.roles_file.exists() else {}
        roles[shard] = node
        self.roles_file.write_text(json.dumps(roles, indent=2) + "\n")
        self.save_topology()

    def node(self, shard: str, role: str) -> str:
        """The node ("a" or "b") that has `role` ("primary" or "replica") in `shard` now."""
        primary = self.primary_node(shard)
        return primary if role == "primary" else next(n for n in NODES if n != primary)

    def node_dir(self, shard: str, node: str) -> pathlib.Path:
        return self.pg_root / f"{shard}-{node}"

    def node_port(self, shard: str, node: str) -> int:
        base = self.ports.pg_primary_base if node == NODES[0] else self.ports.pg_replica_base
        return base + SHARD_NAMES.index(shard)

    def standby_name(self, shard: str, node: str) -> str:
        """The node's application name as a standby (its cluster_name), listed in synchronous_standby_names."""
        return f"{shard}_{node}"

    def adopt_legacy_dirs(self) -> list[tuple[str, str]]:
        """Rename data folders of clusters made before nodes had names ({shard}-primary, {shard}-replica);
        returns the (shard, node) pairs renamed."""
        adopted = []
        for shard in SHARD_NAMES:
            for old, node in (("primary", "a"), ("replica", "b")):
                legacy, current = self.pg_root / f"{shard}-{old}", self.node_dir(shard, node)
                if legacy.exists() and not current.exists():
                    legacy.rename(current)
                    adopted.append((shard, node))
        return adopted

    @property
    def topology_file(self) -> pathlib.Path:
        return self.data_dir / "topology.json"

    @property
    def logs(self) -> pathlib.Path:
        return self.data_dir / "logs"

    @property
    def run(self) -> pathlib.Path:
        return self.data_dir / "run"

    @property
    def socket_dir(self) -> pathlib.Path:
        return self.pg_root / "sockets"

    @property
    def mongo_dir(self) -> pathlib.Path:
        return self.data_dir / "mongo"

    def pg_dir(self, shard: str, role: str) -> pathlib.Path:
        """The data folder of the node that has `role` in `shard` now."""
        return self.node_dir(shard, self.node(shard, role))

    def pg_port(self, shard: str, role: str) -> int:
        return self.node_port(shard, self.node(shard, role))

    def all_ports(self) -> dict[str, int]:
        """Every port the cluster listens on, by component name."""
        ports = {f"postgres {s} {r}": self.pg_port(s, r) for s in SHARD_NAMES for r in ("primary", "replica")}
        ports["mongo"] = self.ports.mongo
        ports.update({name: self.ports.service(name) for name in SERVICES})
        ports["gateway"] = self.ports.gateway
        return ports
