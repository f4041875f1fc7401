"""PostgreSQL as `elearn up` configures it: TLS with the cluster's CA and a SCRAM password on every TCP
connection, replication under its own role, and passwords only in 0600 files."""
from __future__ import annotations

import os
import pwd
import stat

import psycopg2
import pytest

from launcher.layout import NODES, SHARD_NAMES
from shared.pg.login import PG_SERVICES


def _connect(cluster, shard: str, **overrides):
    port = cluster.layout.pg_port(shard, "primary")
    dsn = psycopg2.extensions.make_dsn(cluster.layout.pg_dsn(port), **overrides)
    return psycopg2.connect(dsn)


@pytest.mark.parametrize("shard", SHARD_NAMES)
def test_every_tcp_session_on_every_node_is_encrypted(cluster, shard):
    for role in ("primary", "replica"):
        rows = cluster.query(shard, role, "SELECT a.usename, a.application_name, s.ssl FROM pg_stat_activity a "
                                          "JOIN pg_stat_ssl s USING (pid) WHERE a.client_addr IS NOT NULL")
        assert rows, f"no TCP sessions on the {shard} {role}"
        assert [r for r in rows if not r[2]] == [], rows
    names = {r[0] for r in cluster.query(shard, "primary", "SELECT application_name FROM pg_stat_activity")}
    assert any(name.startswith("elearn-") for name in names), names  # the services' own sessions are among them


@pytest.mark.parametrize("shard", SHARD_NAMES)
def test_replication_streams_over_tls_under_its_own_role(cluster, shard):
    rows = cluster.query(shard, "primary", "SELECT r.usename, s.ssl FROM pg_stat_replication r "
                                           "JOIN pg_stat_ssl s USING (pid)")
    assert rows == [("replicator", True)]
    assert cluster.query(shard, "primary", "SELECT rolsuper FROM pg_roles WHERE rolname = 'replicator'") == [(False,)]


def test_a_connection_without_tls_is_refused(cluster):
    with pytest.raises(psycopg2.OperationalError, match="no pg_hba.conf entry .* no encryption"):
        _connect(cluster, "eu", sslmode="disable")


def test_a_connection_without_the_password_is_refused(cluster, tmp_path):
    empty = tmp_path / "pgpass"
    empty.write_text("")
    empty.chmod(0o600)
    with pytest.raises(psycopg2.OperationalError, match="password"):
        _connect(cluster, "eu", passfile=str(empty))
    wrong = tmp_path / "wrong"
    wrong.write_text("127.0.0.1:*:*:postgres:not-the-password\n")
    wrong.chmod(0o600)
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        _connect(cluster, "eu", passfile=str(wrong))


def test_every_host_rule_asks_for_scram_over_tls(cluster):
    rules = cluster.query("na", "primary", "SELECT type, auth_method FROM pg_hba_file_rules WHERE type <> 'local'")
    assert rules and set(rules) == {("hostssl", "scram-sha-256")}


def test_passwords_live_only_in_private_files(cluster):
    layout = cluster.layout
    assert stat.S_IMODE(layout.secrets_dir.stat().st_mode) == 0o700
    secrets = {p.name: p.read_text().strip() for p in layout.secrets_dir.iterdir() if p.name.startswith("pg-")}
    assert set(secrets) == {"pg-postgres", "pg-replicator", *(f"pg-{service}" for service in PG_SERVICES)}
    for path in layout.secrets_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    topology = layout.topology_file.read_text()
    logs = "".join(p.read_text(errors="replace") for p in layout.logs.glob("*.log"))
    for secret in secrets.values():
        assert secret not in topology and secret not in logs


def test_each_node_key_is_the_postgres_users_alone(cluster):
    owner = pwd.getpwnam("postgres").pw_uid if os.geteuid() == 0 else os.geteuid()
    for shard in SHARD_NAMES:
        for node in NODES:
            key = cluster.layout.pg_tls_dir / f"{cluster.layout.member(shard, node)}.key"
            info = key.stat()
            assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o600, owner), key
            config = cluster.layout.patroni_dir / f"{cluster.layout.member(shard, node)}.yml"
            assert stat.S_IMODE(config.stat().st_mode) == 0o600, config
