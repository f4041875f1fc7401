"""Migrations as deployment steps: `apply` retries until every shard's primary takes them (then sets the service
roles' passwords from ELEARN_PG_PASSWORDS_DIR when set), `wait` blocks until every shard has them all (the
services' init container on Kubernetes, so no service starts on an old schema)."""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

from launcher import pg_roles
from launcher.migrate import Migration, MigrationError, load_migrations, migrate_all
from shared.pg import admin
from shared.settings import SettingsError, parse_shard_map, read_topology
from shared.sharding import ShardMap


def apply(shard_map: ShardMap, timeout_s: float, pause_s: float = 2.0,
          migrate: Callable[[ShardMap], dict[str, list[str]]] = migrate_all) -> dict[str, list[str]]:
    """Apply every migration to every shard, retrying unreachable primaries until `timeout_s` has passed."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return migrate(shard_map)
        except (MigrationError, admin.Unreachable) as exc:
            # A primary that cannot be reached or went away mid-run (a failover) is worth another try.
            if not admin.unreachable(exc) or time.monotonic() + pause_s > deadline:
                raise
            print(f"waiting for the shards' primaries: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
            time.sleep(pause_s)


def _applied_versions(dsn: str, connect_timeout_s: float) -> set[int]:
    conn = admin.connect(dsn, connect_timeout_s=connect_timeout_s)
    try:
        with admin.translated(), conn.cursor() as cur:
            cur.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
            if not cur.fetchone()[0]:
                return set()
            cur.execute("SELECT version FROM schema_migrations")
            return {row[0] for row in cur.fetchall()}
    finally:
        conn.close()


def missing_migrations(shard_map: ShardMap, migrations: list[Migration], connect_timeout_s: float = 5) -> dict:
    """Per shard, the versions not yet recorded in its schema_migrations ("unreachable" when it cannot say)."""
    expected = {m.version for m in migrations}
    missing = {}
    for shard in shard_map.shards:
        try:
            applied = _applied_versions(shard.primary_dsn, connect_timeout_s)
        except admin.Unreachable:
            missing[shard.name] = "unreachable"
            continue
        if expected - applied:
            missing[shard.name] = sorted(expected - applied)
    return missing


def wait(shard_map: ShardMap, timeout_s: float, pause_s: float = 2.0) -> dict:
    """Block until every shard has every migration; returns what is still missing when `timeout_s` runs out."""
    migrations = load_migrations()
    deadline = time.monotonic() + timeout_s
    while True:
        missing = missing_migrations(shard_map, migrations)
        if not missing or time.monotonic() + pause_s > deadline:
            return missing
        time.sleep(pause_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m launcher.migrate_cli", description=__doc__)
    parser.add_argument("step", choices=("apply", "wait"))
    parser.add_argument("--timeout-s", type=float, default=300.0, help="give up after this long (default 300)")
    args = parser.parse_args(argv)
    try:
        shard_map = parse_shard_map(read_topology(os.environ))
        if args.step == "apply":
            for shard, applied in apply(shard_map, args.timeout_s).items():
                print(f"{shard}: " + (", ".join(applied) if applied else "up to date"))
            pg_roles.after_migrations(shard_map, pg_roles.passwords_from_env(os.environ))
            return 0
        missing = wait(shard_map, args.timeout_s)
    except (SettingsError, MigrationError, admin.AdminError) as exc:
        print(f"migrate {args.step}: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return 1
    if missing:
        print("migrate wait: not up to date after {:.0f} s: {}".format(
            args.timeout_s, "; ".join(f"{s} {v}" for s, v in missing.items())), file=sys.stderr)
        return 1
    print("every shard is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
