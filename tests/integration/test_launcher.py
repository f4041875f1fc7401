"""`elearn up/down/status` as a user runs them: idempotent up, clear port errors, data kept across restarts."""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile

import psycopg2
import pytest

from launcher.cluster import Cluster
from launcher.layout import Layout
from tests.conftest import _free_ports

ELEARN = [sys.executable, "-m", "launcher.cli"]


def elearn(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*ELEARN, *args], capture_output=True, text=True, timeout=180)


def test_second_up_on_a_running_cluster_changes_nothing(cluster):
    before = json.loads((cluster.layout.run / "processes.json").read_text())
    result = elearn("up", "--data-dir", str(cluster.layout.data_dir))
    assert result.returncode == 0, result.stderr
    assert "already running" in result.stdout
    assert json.loads((cluster.layout.run / "processes.json").read_text()) == before


def test_status_lists_every_part_with_replica_lag(cluster):
    result = elearn("status", "--data-dir", str(cluster.layout.data_dir), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {row["component"]: row for row in json.loads(result.stdout)}
    assert rows["users"]["health"] == "SERVING" and rows["gateway"]["health"] == "SERVING"
    for shard in ("na", "eu", "apac"):
        primary, replica = rows[f"postgres {shard} primary"], rows[f"postgres {shard} replica"]
        assert primary["role"] == "primary" and primary["patroni_role"] == "leader" and primary["timeline"] >= 1
        assert replica["role"] == "replica" and replica["lag_bytes"] is not None and replica["lag_bytes"] >= 0
        assert replica["patroni_role"] == "sync_standby" and replica["patroni_state"] == "streaming"


def test_up_with_a_port_in_use_says_which(tmp_path):
    data_dir = tmp_path / "busy"
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = elearn("up", "--data-dir", str(data_dir), "--gateway-port", str(port), "--port-offset", "3")
    assert result.returncode == 2
    assert f"gateway port {port}" in result.stderr
    assert not (data_dir / "pg").exists()


@pytest.fixture
def spare_cluster():
    data_dir = pathlib.Path(tempfile.mkdtemp(prefix="elearn-spare-"))
    os.chmod(data_dir, 0o755)
    layout = Layout.create(data_dir, _free_ports())
    yield Cluster(layout, say=lambda _m: None)
    Cluster(layout, say=lambda _m: None).down()
    shutil.rmtree(data_dir, ignore_errors=True)


def test_down_keeps_the_data_and_a_warm_up_finds_it(spare_cluster):
    cold = spare_cluster.up()
    assert cold.cold and not cold.already_running
    port = spare_cluster.layout.pg_port("eu", "primary")
    dsn = spare_cluster.layout.pg_dsn(port)
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO users (email, full_name, region) VALUES ('kept@example.com', 'Kept', 'EUROPE') "
                    "RETURNING id")
        user_id = cur.fetchone()[0]
    stopped = spare_cluster.down()
    assert {"users", "postgres eu a", "postgres eu b", "etcd", "mongo"} <= set(stopped)
    assert not any(spare_cluster.running_parts().values())
    warm = spare_cluster.up()
    assert not warm.cold and all(spare_cluster.running_parts().values())
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT email FROM users WHERE id = %s", (user_id,))
        assert cur.fetchone() == ("kept@example.com",)
    print(f"\nelearn up: cold {cold.seconds:.1f} s, warm {warm.seconds:.1f} s")
