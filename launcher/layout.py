"""Where the local cluster keeps its files and which ports it uses, recorded in <data-dir>/cluster.json.

Each shard has two PostgreSQL nodes, "a" (first port range) and "b" (second), each run by its own Patroni
(REST API on the node's port + 100), with one etcd for the whole cluster. Which node is the primary is
Patroni's to decide: the layout asks it, and the topology file written at start-up names the nodes in the
roles they had then (the services find the writable node by themselves afterwards).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pathlib
import stat
from dataclasses import dataclass

from launcher.patroni import cluster_view, leader
from shared.settings import DEFAULT_SHARDS, SERVICES, LocalPorts, TlsSettings, local_topology

SHARD_NAMES = tuple(name for name, _number, _regions in DEFAULT_SHARDS)
NODES = ("a", "b")
REPLICATION_MODES = ("sync", "async")
REST_OFFSET = 100     # a node's Patroni REST API listens on its PostgreSQL port + 100
ETCD_OFFSET = 60      # etcd's client and peer ports: the first PostgreSQL port + 60 and + 61


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
    insecure: bool = False     # plaintext gRPC everywhere (`elearn up --insecure`); TLS and mTLS otherwise
    instances: int = 1  # processes per service, each on its own port (LocalPorts.service)

    @classmethod
    def create(cls, data_dir: pathlib.Path, ports: LocalPorts, instances: int = 1) -> Layout:
        """A new layout; PostgreSQL's folders go where its system user can reach them."""
        pg_root = data_dir / "pg"
        if os.geteuid() == 0 and not postgres_can_reach(data_dir):
            digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
            pg_root = pathlib.Path("/var/tmp") / f"elearn-pg-{digest}"
        return cls(data_dir, ports, pg_root, instances=instances)

    @classmethod
    def load(cls, data_dir: pathlib.Path) -> Layout | None:
        record = data_dir / "cluster.json"
        if not record.exists():
            return None
        body = json.loads(record.read_text())
        return cls(data_dir, LocalPorts(**body["ports"]), pathlib.Path(body["pg_root"]),
                   body.get("replication", "sync"), body.get("insecure", False), body.get("instances", 1))

    def save(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        body = {"ports": dataclasses.asdict(self.ports), "pg_root": str(self.pg_root),
                "replication": self.replication, "insecure": self.insecure, "instances": self.instances}
        (self.data_dir / "cluster.json").write_text(json.dumps(body, indent=2) + "\n")
        self.save_topology()

    @property
    def auth_dir(self) -> pathlib.Path:
        """Signing keys (private, 0600) and the JWKS every process verifies tokens with."""
        return self.data_dir / "auth"

    def topology(self) -> dict:
        """The local topology with each shard's nodes in their current roles, and its Patroni REST APIs."""
        doc = local_topology(self.ports, instances=self.instances)
        for shard in doc["shards"]:
            if self.primary_node(shard["name"]) != NODES[0]:
                shard["primary_dsn"], shard["replica_dsn"] = shard["replica_dsn"], shard["primary_dsn"]
            shard["patroni"] = [f"127.0.0.1:{port}" for port in self.rest_ports(shard["name"])]
        # Every process and client reads its TLS files (or the explicit plaintext) from here.
        doc["tls"] = {"insecure": True} if self.insecure else {"ca": str(self.tls_dir / "ca.crt"),
                                                                "dir": str(self.tls_dir)}
        for shard in doc["shards"]:
            shard["primary_dsn"] += self.pg_auth()
            shard["replica_dsn"] += self.pg_auth()
        return doc

    def pg_auth(self) -> str:
        """What a DSN of this cluster adds: the passfile (never a password) and TLS verified against the CA."""
        return (f" passfile={self.passfile} sslmode=verify-full sslrootcert={self.tls_dir / 'ca.crt'}")

    def pg_dsn(self, port: int, database: str = "elearning") -> str:
        """The launcher's own connection to a node, as the superuser."""
        return f"host=127.0.0.1 port={port} dbname={database} user=postgres connect_timeout=3" + self.pg_auth()

    def save_topology(self) -> None:
        self.topology_file.write_text(json.dumps(self.topology(), indent=2) + "\n")

    # ---- nodes and roles -----------------------------------------------------------------------
    def primary_node(self, shard: str) -> str:
        """The node whose Patroni holds the shard's leader key and runs ("a" when there is none)."""
        holder = leader(cluster_view(self.rest_ports(shard)))
        return holder["name"].rsplit("_", 1)[-1] if holder else NODES[0]

    def member(self, shard: str, node: str) -> str:
        """The node's Patroni member name, also its application name as a standby."""
        return f"{shard}_{node}"

    def rest_port(self, shard: str, node: str) -> int:
        return self.node_port(shard, node) + REST_OFFSET

    def rest_ports(self, shard: str) -> list[int]:
        return [self.rest_port(shard, node) for node in NODES]

    @property
    def etcd_ports(self) -> tuple[int, int]:
        """(client, peer)."""
        return self.ports.pg_primary_base + ETCD_OFFSET, self.ports.pg_primary_base + ETCD_OFFSET + 1

    @property
    def etcd_dir(self) -> pathlib.Path:
        return self.data_dir / "etcd"

    @property
    def patroni_dir(self) -> pathlib.Path:
        return self.pg_root / "patroni"

    def node(self, shard: str, role: str) -> str:
        """The node ("a" or "b") that has `role` ("primary" or "replica") in `shard` now."""
        primary = self.primary_node(shard)
        return primary if role == "primary" else next(n for n in NODES if n != primary)

    def node_dir(self, shard: str, node: str) -> pathlib.Path:
        return self.pg_root / f"{shard}-{node}"

    def node_port(self, shard: str, node: str) -> int:
        base = self.ports.pg_primary_base if node == NODES[0] else self.ports.pg_replica_base
        return base + SHARD_NAMES.index(shard)

    @property
    def topology_file(self) -> pathlib.Path:
        return self.data_dir / "topology.json"

    @property
    def tls_dir(self) -> pathlib.Path:
        return self.data_dir / "tls"

    def client_tls(self) -> TlsSettings | None:
        """What tools and tests present to the cluster: the client certificate (None when plaintext)."""
        if self.insecure:
            return None
        return TlsSettings(str(self.tls_dir / "ca.crt"), str(self.tls_dir / "client.crt"),
                           str(self.tls_dir / "client.key"))

    @property
    def secrets_dir(self) -> pathlib.Path:
        """Generated database passwords (0700, each 0600)."""
        return self.data_dir / "secrets"

    @property
    def passfile(self) -> pathlib.Path:
        return self.secrets_dir / "pgpass"

    @property
    def pg_tls_dir(self) -> pathlib.Path:
        """The nodes' server certificates and keys, where only the postgres user reads them."""
        return self.pg_root / "tls"

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

    def metrics_ports(self) -> dict[str, tuple[str, int]]:
        """Every process's /metrics port, by process name ("users", "users-2", ..., "gateway"), with the name of
        the component it belongs to."""
        found = {name if i == 0 else f"{name}-{i + 1}": (name, self.ports.metrics(name, i))
                 for name in SERVICES for i in range(self.instances)}
        found["gateway"] = ("gateway", self.ports.metrics("gateway"))
        return found

    def all_ports(self) -> dict[str, int]:
        """Every port the cluster listens on, by the name of the part that owns it (a node's Patroni owns its
        PostgreSQL port and its REST port)."""
        ports = {"etcd": self.etcd_ports[0], "etcd peer": self.etcd_ports[1]}
        for shard in SHARD_NAMES:
            for node in NODES:
                ports[f"postgres {shard} {node}"] = self.node_port(shard, node)
                ports[f"postgres {shard} {node} rest"] = self.rest_port(shard, node)
        ports["mongo"] = self.ports.mongo
        ports.update({name if i == 0 else f"{name}-{i + 1}": self.ports.service(name, i)
                      for name in SERVICES for i in range(self.instances)})
        ports["gateway"] = self.ports.gateway
        ports.update({f"{name} metrics": port for name, (_, port) in self.metrics_ports().items()})
        ports["prometheus"] = self.ports.prometheus
        return ports
