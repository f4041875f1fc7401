"""Which deployment a client tool (seed, health) talks to: its topology and its gateway address.

In order: the local cluster named by --data-dir (its topology.json and cluster.json); the topology of
$ELEARN_CONFIG or $ELEARN_TOPOLOGY (read by the same code as every service); the local cluster in the default
data folder ($ELEARN_DATA_DIR or ./.elearn) if it exists; the local defaults. --gateway overrides the address.
"""
from __future__ import annotations

import json
import os
import pathlib
from collections.abc import Mapping
from dataclasses import dataclass

from launcher.layout import Layout, default_data_dir
from shared.auth.tokens import user_token
from shared.settings import (
    LocalPorts,
    SettingsError,
    TlsSettings,
    local_topology,
    parse_shard_map,
    read_topology,
    tls_settings,
)
from shared.sharding import ShardMap

OPERATOR_ID = 0  # an operator's admin token names no user account
OPERATOR_TTL_S = 12 * 3600  # outlives a long seed or load run


@dataclass(frozen=True)
class Target:
    topology: dict
    gateway: str
    source: str  # where the topology came from, for messages
    auth_dir: pathlib.Path | None = None  # a local cluster's signing keys, for an operator's token

    def token(self, explicit: str | None = None) -> str | None:
        """The token to call with: `explicit` (--token), else $ELEARN_TOKEN, else an admin token minted from
        the local cluster's key (whoever can read the data folder is its operator), else None."""
        chosen = explicit or os.environ.get("ELEARN_TOKEN")
        if chosen:
            return chosen
        if self.auth_dir is not None and (self.auth_dir / "jwks.json").exists():
            return user_token(self.auth_dir, OPERATOR_ID, "ADMIN", ttl_s=OPERATOR_TTL_S)
        return None

    @property
    def shard_map(self) -> ShardMap:
        return parse_shard_map(self.topology)

    @property
    def tls(self) -> TlsSettings | None:
        """The client certificate of the deployment's topology (ELEARN_TLS_* override it)."""
        return tls_settings("client", self.topology, os.environ)


def _from_layout(layout: Layout) -> dict:
    if layout.topology_file.exists():
        try:
            return json.loads(layout.topology_file.read_text())
        except json.JSONDecodeError as exc:
            raise SettingsError(f"{layout.topology_file}: not valid JSON ({exc})") from exc
    return layout.topology()


def resolve(data_dir: str | None = None, gateway: str | None = None, env: Mapping[str, str] | None = None
            ) -> Target:
    env = os.environ if env is None else env
    if data_dir:
        path = pathlib.Path(data_dir).resolve()
        layout = Layout.load(path)
        if layout is None:
            raise SettingsError(f"--data-dir {path}: no local cluster there (no cluster.json); run `elearn up`")
        return Target(_from_layout(layout), gateway or f"{layout.ports.host}:{layout.ports.gateway}", str(path),
                      layout.auth_dir)
    if env.get("ELEARN_CONFIG") or env.get("ELEARN_TOPOLOGY"):
        topology = read_topology(env)
        source = f"ELEARN_CONFIG={env['ELEARN_CONFIG']}" if env.get("ELEARN_CONFIG") else "ELEARN_TOPOLOGY"
        return Target(topology, gateway or topology.get("gateway", _default_gateway()), source)
    layout = Layout.load(default_data_dir())
    if layout is not None:
        return Target(_from_layout(layout), gateway or f"{layout.ports.host}:{layout.ports.gateway}",
                      str(layout.data_dir), layout.auth_dir)
    return Target(local_topology(), gateway or _default_gateway(), "the local defaults")


def _default_gateway() -> str:
    ports = LocalPorts()
    return f"{ports.host}:{ports.gateway}"
