"""launcher.migrate_cli, the Kubernetes migration steps, on a real PostgreSQL: `wait` sees what is missing,
`apply` brings a new shard database up to date (retrying a primary that is not there yet) and `wait` then passes."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import psycopg2
import pytest

from launcher import migrate_cli
from launcher.migrate import MigrationError, load_migrations
from shared.sharding import Shard, ShardMap

pytestmark = pytest.mark.cluster


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the socket closes


@pytest.fixture
def empty_shard(cluster):
    """A shard map whose one shard is a new, empty database on the na primary (dropped afterwards)."""
    name = f"k8s_{uuid.uuid4().hex[:10]}"
    cluster.execute("na", f"CREATE DATABASE {name}")
    port = cluster.layout.pg_port("na", "primary")
    dsn = cluster.layout.pg_dsn(port, name)
    yield ShardMap((Shard("na", 1, ("NORTH_AMERICA",), dsn, dsn),))
    cluster.execute("na", f"DROP DATABASE {name} WITH (FORCE)")


def test_wait_lists_every_missing_version_then_apply_brings_the_shard_up_to_date(empty_shard):
    versions = sorted(m.version for m in load_migrations())
    assert migrate_cli.wait(empty_shard, timeout_s=0) == {"na": versions}
    applied = migrate_cli.apply(empty_shard, timeout_s=10)
    assert len(applied["na"]) == len(versions)
    assert migrate_cli.wait(empty_shard, timeout_s=0) == {}
    assert migrate_cli.apply(empty_shard, timeout_s=10) == {"na": []}  # a second run changes nothing


def test_the_commands_exit_non_zero_until_the_shard_is_migrated(empty_shard):
    shard = empty_shard.shards[0]
    topology = {"shards": [{"name": "na", "number": 1, "regions": ["NORTH_AMERICA"],
                            "primary_dsn": shard.primary_dsn}],
                "services": {s: "127.0.0.1:1" for s in ("users", "courses", "enrollments", "payments", "content")}}
    env = {**os.environ, "ELEARN_TOPOLOGY": json.dumps(topology)}
    env.pop("ELEARN_CONFIG", None)
    run = lambda *args: subprocess.run([sys.executable, "-m", "launcher.migrate_cli", *args],  # noqa: E731
                                       env=env, capture_output=True, text=True, timeout=60)
    waiting = run("wait", "--timeout-s", "1")
    assert waiting.returncode == 1 and "not up to date" in waiting.stderr and "na [1" in waiting.stderr
    assert run("apply", "--timeout-s", "10").returncode == 0
    done = run("wait", "--timeout-s", "1")
    assert done.returncode == 0 and "up to date" in done.stdout


def test_apply_retries_an_unreachable_primary_until_it_answers(empty_shard):
    unreachable = f"host=127.0.0.1 port={_closed_port()} dbname=elearning user=postgres connect_timeout=1"
    calls = []

    def migrate(shard_map):
        # The first two attempts meet the real refusal of a primary that is not up yet, then it is.
        calls.append(1)
        target = unreachable if len(calls) <= 2 else empty_shard
        if isinstance(target, str):
            try:
                psycopg2.connect(target).close()
            except psycopg2.OperationalError as exc:
                raise MigrationError("shard na: cannot reach its primary") from exc
        return migrate_cli.migrate_all(target)

    result = migrate_cli.apply(empty_shard, timeout_s=10, pause_s=0.05, migrate=migrate)
    assert len(calls) == 3 and result["na"]


def test_apply_gives_up_at_its_deadline_and_wait_reports_an_unreachable_shard():
    dsn = f"host=127.0.0.1 port={_closed_port()} dbname=elearning user=postgres connect_timeout=1"
    shard_map = ShardMap((Shard("na", 1, ("NORTH_AMERICA",), dsn, dsn),))
    with pytest.raises(MigrationError, match="cannot reach its primary"):
        migrate_cli.apply(shard_map, timeout_s=0.5, pause_s=0.1)
    assert migrate_cli.wait(shard_map, timeout_s=0) == {"na": "unreachable"}


def test_a_changed_migration_is_not_retried(empty_shard):
    migrate_cli.apply(empty_shard, timeout_s=10)
    calls = []

    def migrate(shard_map):
        calls.append(1)
        raise MigrationError("shard na: migration 0001_x was changed after it was applied")

    with pytest.raises(MigrationError, match="was changed"):
        migrate_cli.apply(empty_shard, timeout_s=10, pause_s=0.05, migrate=migrate)
    assert calls == [1]


def test_wait_holds_until_the_migration_job_has_run(empty_shard):
    outcome = {}
    waiter = threading.Thread(target=lambda: outcome.update(missing=migrate_cli.wait(empty_shard, 60, 0.1)))
    waiter.start()
    time.sleep(0.5)
    assert waiter.is_alive(), "wait returned while migrations were missing"
    migrate_cli.apply(empty_shard, timeout_s=10)
    waiter.join(30)
    assert outcome == {"missing": {}}
