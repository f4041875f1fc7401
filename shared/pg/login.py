"""The PostgreSQL login of a service process: its own role (never the admin's), the password read once at
start-up from a file, handed to libpq with each connection and never put into a DSN, a log or the topology."""
from __future__ import annotations

import pathlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The services that keep rows in PostgreSQL (content keeps its documents in MongoDB), each with its own role
# (sql/migrations/0030_service_roles.sql).
PG_SERVICES = ("users", "courses", "enrollments", "payments")


class LoginError(ValueError):
    """The login settings are incomplete or unreadable; the message names the variable."""


def role_of(service: str) -> str:
    """The PostgreSQL role `service` connects as."""
    return f"elearn_{service}"


@dataclass(frozen=True)
class PgLogin:
    user: str
    password: str = field(repr=False)

    def params(self) -> dict[str, Any]:
        """Connection keywords that override the DSN's user (libpq: keywords win over the DSN string)."""
        return {"user": self.user, "password": self.password}


def login_from_env(env: Mapping[str, str]) -> PgLogin | None:
    """ELEARN_PG_USER with ELEARN_PG_PASSWORD_FILE (a file holding only the password, as docker-compose and
    Kubernetes secrets are mounted); neither: None, and the process connects as its DSNs say."""
    user, path = env.get("ELEARN_PG_USER") or "", env.get("ELEARN_PG_PASSWORD_FILE") or ""
    if not user and not path:
        return None
    if not user or not path:
        missing = "ELEARN_PG_USER" if not user else "ELEARN_PG_PASSWORD_FILE"
        raise LoginError(f"{missing} is not set: ELEARN_PG_USER and ELEARN_PG_PASSWORD_FILE go together")
    try:
        password = pathlib.Path(path).read_text().strip()
    except OSError as exc:
        raise LoginError(f"ELEARN_PG_PASSWORD_FILE={path}: cannot read the file ({exc.strerror})") from exc
    if not password:
        raise LoginError(f"ELEARN_PG_PASSWORD_FILE={path}: the file is empty")
    return PgLogin(user, password)
