"""Logins read from secret files: a user name from one variable and the password from the file another names
(a file holding only the password, as docker-compose and Kubernetes mount secrets), read once at start-up and
never put into a URI, a DSN, a log or the topology."""
from __future__ import annotations

import pathlib
from collections.abc import Mapping
from dataclasses import dataclass, field


class LoginError(ValueError):
    """The login settings are incomplete or unreadable; the message names the variable."""


@dataclass(frozen=True)
class Login:
    user: str
    password: str = field(repr=False)


def login_from_env(env: Mapping[str, str], user_variable: str, file_variable: str) -> Login | None:
    """`user_variable` with `file_variable`; neither set: None (the process connects as its URI says)."""
    user, path = env.get(user_variable) or "", env.get(file_variable) or ""
    if not user and not path:
        return None
    if not user or not path:
        missing = user_variable if not user else file_variable
        raise LoginError(f"{missing} is not set: {user_variable} and {file_variable} go together")
    try:
        password = pathlib.Path(path).read_text().strip()
    except OSError as exc:
        raise LoginError(f"{file_variable}={path}: cannot read the file ({exc.strerror})") from exc
    if not password:
        raise LoginError(f"{file_variable}={path}: the file is empty")
    return Login(user, password)
