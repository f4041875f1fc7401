"""Make the files docker-compose.yml takes its secrets from: `python -m launcher.compose_secrets [DIR]`.

DIR (default deploy/secrets, ignored by git) gets a CA and one certificate per container (its compose name,
localhost and the loopback addresses: the health probe calls 127.0.0.1) under tls/, and a random password per
database role. Files that exist are kept, so running it again changes nothing; nothing is printed but names.
"""
from __future__ import annotations

import os
import pathlib
import secrets
import sys

from launcher.certs import Authority
from shared.settings import SERVICES

DEFAULT_DIR = pathlib.Path("deploy/secrets")
CERTIFICATES = ("gateway", *SERVICES, "client")
PASSWORDS = ("postgres-superuser", "postgres-replication", "mongo-root", "mongo-app", "pg-migrator",
             *(f"pg-{service}" for service in SERVICES))


def write_password(path: pathlib.Path) -> bool:
    """A new random password, 0600, unless the file exists; True when it was made."""
    if path.exists():
        return False
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_urlsafe(24))
    return True


def make(folder: pathlib.Path) -> list[str]:
    """Every file the compose file names; returns the names of those made now."""
    folder.mkdir(parents=True, exist_ok=True)
    authority = Authority(folder / "tls")
    made = [name for name in CERTIFICATES if not (folder / "tls" / f"{name}.crt").exists()]
    for name in CERTIFICATES:
        authority.issue(name)
    made += [name for name in PASSWORDS if write_password(folder / name)]
    return made


def main(argv: list[str]) -> int:
    folder = pathlib.Path(argv[0]) if argv else DEFAULT_DIR
    made = make(folder)
    print(f"{folder}: made {', '.join(made)}" if made else f"{folder}: every secret exists; nothing changed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
