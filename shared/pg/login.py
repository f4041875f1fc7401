"""The PostgreSQL login of a service process: its own role (never the admin's), the password read once at
start-up from a file, handed to libpq with each connection and never put into a DSN, a log or the topology."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared import secret_files

# The services that keep rows in PostgreSQL (content keeps its documents in MongoDB), each with its own role
# (sql/migrations/0030_service_roles.sql).
PG_SERVICES = ("users", "courses", "enrollments", "payments")


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
    """ELEARN_PG_USER with ELEARN_PG_PASSWORD_FILE (`shared.secret_files`); neither: None, and the process
    connects as its DSNs say."""
    login = secret_files.login_from_env(env, "ELEARN_PG_USER", "ELEARN_PG_PASSWORD_FILE")
    return PgLogin(login.user, login.password) if login else None
