"""The operator's connections to PostgreSQL (the launcher: migrations, `elearn health`, `elearn status`).

The launcher meets these errors, never the driver's: `Unreachable` for a node that cannot be reached or
dropped the connection (a failover, a node not up yet: worth another try), `AdminError` for anything else the
driver raises. Each carries the server's first line. The services' connections are `shared.pg.pools`'.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg2
import psycopg2.extensions


class AdminError(Exception):
    """A statement or a connection of the operator's failed."""


class Unreachable(AdminError):
    """The node could not be reached, or the connection to it broke."""


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """The driver's errors raised inside become `Unreachable` or `AdminError` (from the driver's error)."""
    try:
        yield
    except psycopg2.OperationalError as exc:
        raise Unreachable(first_line(exc)) from exc
    except psycopg2.Error as exc:
        raise AdminError(first_line(exc)) from exc


def connect(dsn: str, *, connect_timeout_s: float) -> psycopg2.extensions.connection:
    """A plain connection to one node (the caller closes it); `Unreachable` when it cannot be opened."""
    with translated():
        return psycopg2.connect(dsn, connect_timeout=connect_timeout_s)


def unreachable(exc: BaseException) -> bool:
    """Whether `exc`, or the error it was raised from, says a node could not be reached (worth another try)."""
    return any(isinstance(e, Unreachable | psycopg2.OperationalError) for e in (exc, exc.__cause__))


def address(dsn: str) -> str:
    """`host:port` of a DSN, as an operator reads it."""
    parts = psycopg2.extensions.parse_dsn(dsn)
    return f"{parts.get('host', 'localhost')}:{parts.get('port', '5432')}"
