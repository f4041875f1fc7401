"""How the local cluster's PostgreSQL nodes authenticate: generated passwords, the clients' passfile, and each
node's CA-signed server certificate where the postgres user (and only it) can read it.

Passwords live in <data-dir>/secrets/ (0700, each file 0600) and never appear in a DSN, a log or the topology:
DSNs name the passfile (libpq reads it) and ask for `sslmode=verify-full` against the cluster's CA.
"""
from __future__ import annotations

import os
import pathlib
import pwd
import secrets
import shutil

from launcher.certs import Authority

SUPERUSER = "postgres"
REPLICATION = "replicator"


def _private_file(path: pathlib.Path, text: str) -> None:
    """Write `text` to a file no one else may read, replacing it atomically."""
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    tmp.replace(path)


def password(folder: pathlib.Path, name: str) -> str:
    """The password stored as `name` in `folder`, made (random, 0600) the first time."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / name
    if not path.exists():
        _private_file(path, secrets.token_urlsafe(24))
    return path.read_text().strip()


def write_passfile(path: pathlib.Path, entries: dict[str, str], host: str = "127.0.0.1") -> None:
    """A libpq passfile: user → password for any node on `host` (the loopback; "*": any) and database."""
    lines = [f"{host}:*:*:{user}:{secret}" for user, secret in entries.items()]
    _private_file(path, "\n".join(lines) + "\n")


def give_to_postgres(path: pathlib.Path, mode: int) -> None:
    """`path` owned by the postgres user with `mode` when this runs as root (PostgreSQL refuses a key that
    others can read); otherwise it is this user's already."""
    path.chmod(mode)
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)


def place_server_certificate(authority: Authority, member: str, folder: pathlib.Path) -> tuple[pathlib.Path, ...]:
    """The node's certificate and key, and the CA, copied into `folder` (a postgres-only folder): the data
    folder may be one the postgres user cannot reach. Returns (cert, key, ca)."""
    pair = authority.issue(f"pg-{member}")
    placed = []
    for source, name, mode in ((pair.cert, f"{member}.crt", 0o644), (pair.key, f"{member}.key", 0o600),
                               (authority.ca.cert, "ca.crt", 0o644)):
        target = folder / name
        target.unlink(missing_ok=True)
        shutil.copyfile(source, target)
        give_to_postgres(target, mode)
        placed.append(target)
    return tuple(placed)
