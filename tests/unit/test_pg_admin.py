"""shared/pg/admin.py: the launcher's connections meet two errors of their own, never the driver's: a node that
cannot be reached is `Unreachable` (worth another try), any other driver error `AdminError`, each with the
server's first line."""
import socket

import psycopg2
import pytest

from shared.pg import admin


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_node_that_is_not_listening_is_unreachable_with_one_line():
    with pytest.raises(admin.Unreachable) as caught:
        admin.connect(f"host=127.0.0.1 port={closed_port()} dbname=x user=x", connect_timeout_s=1)
    assert "\n" not in str(caught.value) and str(caught.value)
    assert admin.unreachable(caught.value) and not admin.unreachable(RuntimeError("wrapped"))


@pytest.mark.parametrize("raised, expected", [(psycopg2.OperationalError("server closed the connection\nmore"),
                                               admin.Unreachable),
                                              (psycopg2.ProgrammingError("syntax error at or near x\nLINE 1"),
                                               admin.AdminError)])
def test_driver_errors_become_the_operators_own(raised, expected):
    with pytest.raises(expected) as caught, admin.translated():
        raise raised
    assert type(caught.value) is expected and caught.value.__cause__ is raised and "\n" not in str(caught.value)


def test_an_error_raised_from_an_unreachable_node_is_worth_another_try():
    try:
        try:
            raise psycopg2.OperationalError("could not connect")
        except psycopg2.OperationalError as exc:
            raise ValueError("shard na: cannot reach its primary") from exc
    except ValueError as wrapped:
        assert admin.unreachable(wrapped)
    assert not admin.unreachable(admin.AdminError("migration 0001 was changed"))


def test_an_address_is_host_and_port_without_secrets():
    assert admin.address("host=db port=5433 dbname=x user=u password=secret") == "db:5433"
    assert admin.address("dbname=x") == "localhost:5432"
