"""Apply sql/migrations/*.sql to every shard's primary, once each, in order, recorded in schema_migrations.

Each migration runs in its own transaction under an advisory lock, so concurrent runs are safe. The first
run stamps the shard's identity (name and number, used by next_id()); a database that already belongs to
another shard is refused rather than silently mixed.
"""
from __future__ import annotations

import hashlib
import pathlib
import time
from dataclasses import dataclass

from shared.pg import admin
from shared.pg.node_probe import probe_dsn
from shared.sharding import Shard, ShardMap

MIGRATIONS = pathlib.Path(__file__).resolve().parent.parent / "sql" / "migrations"
LOCK_KEY = 0x656C6561  # "elea"
LEADER_WAIT_S = 60


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(folder: pathlib.Path = MIGRATIONS) -> list[Migration]:
    if not folder.is_dir():  # an installed copy without the source tree would otherwise apply nothing
        raise MigrationError(f"no migrations folder at {folder}: run from a source checkout (PYTHONPATH)")
    found = []
    for path in sorted(folder.glob("*.sql")):
        version, _, name = path.stem.partition("_")
        if not version.isdigit():
            raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql")
        found.append(Migration(int(version), name, path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migrations share a version number")
    return found


def writable_dsn(shard: Shard, timeout_s: float = LEADER_WAIT_S) -> str:
    """The DSN of the shard's node that accepts writes: the topology lists two nodes, and which one leads is
    Patroni's choice (a shard just started may take a few seconds to elect one)."""
    give_up = time.monotonic() + timeout_s
    while True:
        for dsn in dict.fromkeys((shard.primary_dsn, shard.replica_dsn)):
            node = probe_dsn(dsn, 3)
            if node.reachable and not node.in_recovery:
                return dsn
        if time.monotonic() >= give_up:
            return shard.primary_dsn  # connecting to it names the problem
        time.sleep(0.5)


def migrate_shard(shard: Shard, migrations: list[Migration]) -> list[str]:
    """Bring one shard's primary up to date; returns the names applied now."""
    applied_now = []
    try:
        conn = admin.connect(writable_dsn(shard), connect_timeout_s=5)
    except admin.Unreachable as exc:
        raise MigrationError(f"shard {shard.name}: cannot reach its primary ({exc})") from exc
    try:
        with admin.translated():
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
                cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                            "name text NOT NULL, checksum text NOT NULL, "
                            "applied_at timestamptz NOT NULL DEFAULT now())")
                cur.execute("SELECT version, checksum FROM schema_migrations")
                done = dict(cur.fetchall())
            for migration in migrations:
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise MigrationError(f"shard {shard.name}: migration {migration.version}_{migration.name} "
                                             "was changed after it was applied; add a new migration instead")
                    continue
                conn.autocommit = False
                with conn.cursor() as cur:
                    cur.execute(migration.sql)
                    if migration.version == 1:
                        cur.execute("INSERT INTO shard_identity (shard_number, shard_name) VALUES (%s, %s)",
                                    (shard.number, shard.name))
                    cur.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                                (migration.version, migration.name, migration.checksum))
                conn.commit()
                conn.autocommit = True
                applied_now.append(f"{migration.version:04d}_{migration.name}")
            _check_identity(conn, shard)
    finally:
        conn.close()
    return applied_now


def _check_identity(conn, shard: Shard) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT shard_number, shard_name FROM shard_identity")
        row = cur.fetchone()
    if row != (shard.number, shard.name):
        raise MigrationError(f"the database at {shard.primary_dsn} belongs to shard {row[1]} (number {row[0]}), "
                             f"not to {shard.name} (number {shard.number}); check the topology")


def migrate_all(shard_map: ShardMap) -> dict[str, list[str]]:
    migrations = load_migrations()
    return {shard.name: migrate_shard(shard, migrations) for shard in shard_map.shards}
