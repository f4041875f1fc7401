"""Session fixtures: one real local cluster (PostgreSQL primaries and replicas, the MongoDB stand-in, the
services and the gateway) booted on free ports for the whole test session, and clients for it."""
from __future__ import annotations

import os
import pathlib
import random
import shutil
import socket
import tempfile
from dataclasses import dataclass

import psycopg2
import pytest

from launcher.cluster import Cluster
from launcher.layout import Layout
from launcher.processes import port_is_free
from shared.settings import LocalPorts, load_settings
from tests.channels import open_channel

INSTANCES = 2  # processes per service: every test runs against a scaled-out cluster


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_ports() -> LocalPorts:
    """A port range for a test cluster below Linux's ephemeral range (32768-60999), so no outgoing
    connection of this machine can be holding one of its ports when a server binds it."""
    defaults = LocalPorts()
    for _ in range(50):
        offset = random.randrange(-26000, -21600, 10)
        ports = LocalPorts(gateway=defaults.gateway + offset, service_base=defaults.service_base + offset,
                           pg_primary_base=defaults.pg_primary_base + offset,
                           pg_replica_base=defaults.pg_replica_base + offset, mongo=defaults.mongo + offset)
        layout = Layout(pathlib.Path("/nonexistent"), ports, pathlib.Path("/nonexistent"), instances=INSTANCES)
        if all(_bindable(p) and port_is_free(p) for p in layout.all_ports().values()):
            return ports
    raise RuntimeError("no free port range for the test cluster")


@dataclass
class RunningCluster:
    layout: Layout
    cluster: Cluster

    @property
    def gateway(self) -> str:
        return f"127.0.0.1:{self.layout.ports.gateway}"

    def service(self, name: str, instance: int = 0) -> str:
        """One instance's own address (the first by default)."""
        return f"127.0.0.1:{self.layout.ports.service(name, instance)}"

    @property
    def tls(self):
        """The CA and client certificate tools and tests present (None when the cluster is plaintext)."""
        return self.layout.client_tls()

    @property
    def env(self) -> dict[str, str]:
        return {"ELEARN_CONFIG": str(self.layout.topology_file), "ELEARN_AUTH_DIR": str(self.layout.auth_dir)}

    def settings(self, process: str = "users"):
        listen = self.gateway if process == "gateway" else self.service(process)
        return load_settings(process, {**self.env, "ELEARN_LISTEN": listen})

    def pg(self, shard: str, role: str = "primary"):
        """A fresh autocommit connection to one node."""
        conn = psycopg2.connect(self.layout.pg_dsn(self.layout.pg_port(shard, role)))
        conn.autocommit = True
        return conn

    def execute(self, shard: str, sql: str, params=()) -> None:
        """Run one statement on a shard's primary, outside any transaction block."""
        conn = self.pg(shard)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
        finally:
            conn.close()

    def query(self, shard: str, role: str, sql: str, params=()):
        conn = self.pg(shard, role)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            conn.close()

    def now(self):
        """The database's clock (one machine: every shard's)."""
        return self.query("na", "primary", "SELECT now()")[0][0]

    def prepared_since(self, moment) -> dict[str, int]:
        """Per shard, the transactions prepared at or after `moment` still in doubt: a test's own leftovers,
        not an earlier test's that the services' recovery pass has yet to finish."""
        return {shard: self.query(shard, "primary", "SELECT count(*) FROM pg_prepared_xacts WHERE prepared >= %s",
                                  (moment,))[0][0] for shard in ("na", "eu", "apac")}


@pytest.fixture(scope="session")
def cluster():
    data_dir = pathlib.Path(tempfile.mkdtemp(prefix="elearn-test-"))
    os.chmod(data_dir, 0o755)  # PostgreSQL runs as its own user and must reach its folders
    layout = Layout.create(data_dir, _free_ports(), instances=INSTANCES)
    running = Cluster(layout, say=lambda _msg: None)
    try:
        running.up()
        yield RunningCluster(layout, running)
    finally:
        running.down()
        shutil.rmtree(data_dir, ignore_errors=True)
        if layout.pg_root != data_dir / "pg":
            shutil.rmtree(layout.pg_root, ignore_errors=True)


@pytest.fixture(scope="session")
def gateway_channel(cluster):
    with open_channel(cluster, cluster.gateway) as channel:
        yield channel
