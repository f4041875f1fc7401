"""The services' PostgreSQL logins: one password per service role, kept as a file, set on every shard.

The roles and their grants come from a migration (sql/migrations/0030_service_roles.sql); this sets their
passwords after migrating, as SCRAM-SHA-256 verifiers computed here, so the password itself never travels to
the server nor lands in its logs. A password file is named pg-<service> and holds only the password: the
local cluster keeps them in <data-dir>/secrets/ (0600), docker-compose and Kubernetes mount them as secrets.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import pathlib
import secrets
from collections.abc import Mapping

from psycopg2 import sql

from launcher import pg_auth
from launcher.migrate import MigrationError, writable_dsn
from shared.pg import admin
from shared.pg.login import PG_SERVICES, role_of
from shared.pg.pools import ShardPools
from shared.pg.twophase import recover_in_doubt
from shared.sharding import ShardMap

SCRAM_ITERATIONS = 4096  # PostgreSQL's own default (scram_iterations)
PASSWORDS_DIR_VARIABLE = "ELEARN_PG_PASSWORDS_DIR"  # `elearn migrate`'s folder of pg-<service> files


def password_file(folder: pathlib.Path, service: str) -> pathlib.Path:
    return folder / f"pg-{service}"


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """What PostgreSQL stores for a SCRAM-SHA-256 password (RFC 5802, RFC 7677), as ALTER ROLE accepts it."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored_key = hashlib.sha256(hmac.new(salted, b"Client Key", hashlib.sha256).digest()).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = base64.b64encode
    return f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}${b64(stored_key).decode()}:{b64(server_key).decode()}"


def local_passwords(folder: pathlib.Path) -> dict[str, str]:
    """Every service's password in `folder`, each made (random, 0600) the first time."""
    return {service: pg_auth.password(folder, password_file(folder, service).name) for service in PG_SERVICES}


def read_passwords(folder: pathlib.Path) -> dict[str, str]:
    """Every service's password from the files in `folder` (mounted secrets); a missing one is an error."""
    found = {}
    for service in PG_SERVICES:
        path = password_file(folder, service)
        try:
            found[service] = path.read_text().strip()
        except OSError as exc:
            raise MigrationError(f"{path}: cannot read the {service} service's password ({exc.strerror})") from exc
        if not found[service]:
            raise MigrationError(f"{path}: the {service} service's password file is empty")
    return found


def set_passwords(shard_map: ShardMap, passwords: dict[str, str]) -> None:
    """Each service role's password on every shard's primary (roles live in each PostgreSQL cluster)."""
    for shard in shard_map.shards:
        try:
            conn = admin.connect(writable_dsn(shard), connect_timeout_s=5)
        except admin.Unreachable as exc:
            raise MigrationError(f"shard {shard.name}: cannot reach its primary to set the service passwords"
                                 ) from exc
        try:
            conn.autocommit = True
            with admin.translated(), conn.cursor() as cur:
                for service, password in passwords.items():
                    cur.execute(sql.SQL("ALTER ROLE {} PASSWORD %s").format(sql.Identifier(role_of(service))),
                                (scram_verifier(password),))
        finally:
            conn.close()


def passwords_from_env(env: Mapping[str, str]) -> dict[str, str] | None:
    """The passwords in the folder ELEARN_PG_PASSWORDS_DIR names (docker-compose, Kubernetes); None unset."""
    folder = env.get(PASSWORDS_DIR_VARIABLE)
    return read_passwords(pathlib.Path(folder)) if folder else None


def after_migrations(shard_map: ShardMap, passwords: dict[str, str] | None) -> None:
    """What follows the migrations: the service roles' passwords (when given), then the cross-shard writes
    left from before the roles, which only the admin may finish."""
    if passwords is not None:
        set_passwords(shard_map, passwords)
    finish_admin_in_doubt(shard_map)


def finish_admin_in_doubt(shard_map: ShardMap) -> dict[str, int]:
    """Finish the cross-shard writes prepared before the services had roles of their own (gids without a
    service name): only the admin may. Undecided ones younger than the coordinator's grace are left. Each
    shard's writable node is found first: after a failover the topology's primary is the replica."""
    leaders = ShardMap(tuple(dataclasses.replace(shard, primary_dsn=writable_dsn(shard)) for shard in shard_map.shards))
    pools = ShardPools(leaders, size=1, connect_timeout_s=5, statement_timeout_ms=10000, lock_timeout_ms=5000,
                       application_name="elearn-migrate")
    try:
        return recover_in_doubt(pools)
    finally:
        pools.close()
