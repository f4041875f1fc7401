"""Where the local cluster keeps its files and which ports it uses, recorded in <data-dir>/cluster.json."""
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
        return cls(data_dir, LocalPorts(**body["ports"]), pathlib.Path(body["pg_root"]))

    def save(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        body = {"ports": dataclasses.asdict(self.ports), "pg_root": str(self.pg_root)}
        (self.data_dir / "cluster.json").write_text(json.dumps(body, indent=2) + "\n")
        self.topology_file.write_text(json.dumps(local_topology(self.ports), indent=2) + "\n")

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
        return self.pg_root / f"{shard}-{role}"

    def pg_port(self, shard: str, role: str) -> int:
        base = self.ports.pg_primary_base if role == "primary" else self.ports.pg_replica_base
        return base + SHARD_NAMES.index(shard)

    def all_ports(self) -> dict[str, int]:
        """Every port the cluster listens on, by component name."""
        ports = {f"postgres {s} {r}": self.pg_port(s, r) for s in SHARD_NAMES for r in ("primary", "replica")}
        ports["mongo"] = self.ports.mongo
        ports.update({name: self.ports.service(name) for name in SERVICES})
        ports["gateway"] = self.ports.gateway
        return ports
