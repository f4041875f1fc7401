"""Make the files docker-compose.yml takes its secrets from: `python -m launcher.compose_secrets [DIR]`.

DIR (default deploy/secrets, ignored by git) gets a CA and one certificate per container (its compose name,
localhost and the loopback addresses: the health probe calls 127.0.0.1) and one for clients, under tls/, and
under pg/ a random password per service PostgreSQL role (pg-<service>, 0600; `elearn migrate` sets them), and
the admin's and the replication user's for the Patroni nodes (and the admin's as a passfile for migrate), and
under mongo/ MongoDB's root password and the content service's user's.
Files that exist and are still valid are kept, so running it again changes nothing.
"""
from __future__ import annotations

import os
import pathlib
import sys

from launcher import pg_auth, pg_roles
from launcher.certs import Authority
from shared.pg.login import PG_SERVICES
from shared.settings import SERVICES

DEFAULT_DIR = pathlib.Path("deploy/secrets")
CERTIFICATES = ("gateway", *SERVICES, "client")
APP_UID = 10001  # the Dockerfile's `elearn` user: docker-compose mounts file secrets with the host's owner
MONGO_UID = 999  # the mongo image's `mongodb` user and group
POSTGRES_UID = 999  # the postgres image's `postgres` user (the Patroni image runs as it)
ADMIN = "elearn"  # Patroni's superuser in docker-compose.yml


def make(folder: pathlib.Path) -> list[str]:
    """Every file the compose file names; returns the names of those made now."""
    folder.mkdir(parents=True, exist_ok=True)
    authority = Authority(folder / "tls")
    made = [name for name in CERTIFICATES if not (folder / "tls" / f"{name}.crt").exists()]
    for name in CERTIFICATES:
        pair = authority.issue(name)
        if os.geteuid() == 0 and name != "client":  # the container's user must read its key (still 0600)
            os.chown(pair.key, APP_UID, APP_UID)
    passwords = folder / "pg"
    for service in PG_SERVICES:
        path = pg_roles.password_file(passwords, service)
        if not path.exists():
            made.append(f"pg/{path.name}")
        pg_auth.password(passwords, path.name)
        if os.geteuid() == 0:
            os.chown(path, APP_UID, APP_UID)
    made += _patroni_passwords(folder / "pg")
    made += _mongo_passwords(folder / "mongo")
    return made


def _patroni_passwords(folder: pathlib.Path) -> list[str]:
    """The admin's and the replication user's passwords for the Patroni nodes (the postgres image's user reads
    them), and the admin's again as a libpq passfile for the migrate container (libpq wants it 0600 and its
    reader's own)."""
    made = [f"pg/{name}" for name in ("admin-password", "replicator-password", "admin-pgpass")
            if not (folder / name).exists()]
    for name in ("admin-password", "replicator-password"):
        pg_auth.password(folder, name)
        if os.geteuid() == 0:
            os.chown(folder / name, POSTGRES_UID, POSTGRES_UID)
    passfile = folder / "admin-pgpass"
    if not passfile.exists():
        pg_auth.write_passfile(passfile, {ADMIN: pg_auth.password(folder, "admin-password")}, host="*")
    if os.geteuid() == 0:
        os.chown(passfile, APP_UID, APP_UID)
    return made


def _mongo_passwords(folder: pathlib.Path) -> list[str]:
    """MongoDB's root password (for the mongo image's user) and the content service's user's (the content
    container reads it, and the mongo image's init script that makes that user, through its group)."""
    made = []
    for name, owner, mode in (("root-password", (MONGO_UID, MONGO_UID), 0o600),
                              ("content-password", (APP_UID, MONGO_UID), 0o640)):
        if not (folder / name).exists():
            made.append(f"mongo/{name}")
        pg_auth.password(folder, name)
        (folder / name).chmod(mode)
        if os.geteuid() == 0:
            os.chown(folder / name, *owner)
    return made


def main(argv: list[str]) -> int:
    folder = pathlib.Path(argv[0]) if argv else DEFAULT_DIR
    made = make(folder)
    print(f"{folder}: made {', '.join(made)}" if made else f"{folder}: every secret exists; nothing changed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
