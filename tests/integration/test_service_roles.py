"""Each service reaches PostgreSQL under its own role: no superuser, and only its own tables.

The sessions of a service are told apart from every other (the tests' own, the launcher's) by the client port:
the TCP sockets each service process holds, read from /proc, against pg_stat_activity's client_port."""
from __future__ import annotations

import os
import pathlib
import uuid

import psycopg2
import psycopg2.errors
import pytest

from launcher.components import SERVICES, instances_of
from launcher.layout import SHARD_NAMES
from shared.pg.login import PG_SERVICES, role_of
from tests.integration import payments_client as payments


def _password(cluster, service: str) -> str:
    return (cluster.layout.secrets_dir / f"pg-{service}").read_text().strip()


def connect_as(cluster, service: str, shard: str = "eu"):
    """An autocommit session on `shard`'s primary under `service`'s role, with that service's password."""
    dsn = cluster.layout.pg_dsn(cluster.layout.pg_port(shard, "primary"))
    conn = psycopg2.connect(dsn, user=role_of(service), password=_password(cluster, service))
    conn.autocommit = True
    return conn


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in pathlib.Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed since the listing
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def client_ports(pid: int, server_port: int) -> set[int]:
    """The local TCP ports of the sockets process `pid` holds to `server_port` (a local port is unique only
    per remote end: another process may use the same one towards another server)."""
    inodes = _socket_inodes(pid)
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in pathlib.Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes and int(fields[2].rsplit(":", 1)[1], 16) == server_port:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _service_pids(cluster) -> dict[str, list[int]]:
    processes = cluster.cluster.processes
    pids: dict[str, list[int]] = {}
    for component in SERVICES:
        for instance in instances_of(component, cluster.layout.instances):
            pid = processes.worker(instance.name)
            assert pid is not None, f"{instance.name} is not running"
            pids.setdefault(component.name, []).append(pid)
    return pids


@pytest.fixture(scope="module")
def every_service_called(gateway_channel):
    """A course bought: users, courses, enrollments and payments each wrote through their pools."""
    course = payments.published_course(gateway_channel)
    payer = payments.payer(gateway_channel, course)
    payments.stub(gateway_channel).CreatePayment(payer.request(), timeout=10)
    return payer


def test_every_service_session_on_every_primary_is_its_own_non_superuser_role(cluster, every_service_called):
    pids = _service_pids(cluster)
    for shard in SHARD_NAMES:
        node_port = cluster.layout.pg_port(shard, "primary")
        ports = {service: set().union(*(client_ports(pid, node_port) for pid in found))
                 for service, found in pids.items()}
        rows = cluster.query(shard, "primary", "SELECT a.client_port, a.usename, r.rolsuper, r.rolbypassrls "
                                               "FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid "
                                               "WHERE a.client_port IS NOT NULL")
        for service, own_ports in ports.items():
            seen = [(user, superuser, bypass) for port, user, superuser, bypass in rows if port in own_ports]
            if service not in PG_SERVICES:  # content keeps its documents in MongoDB
                assert seen == [], (shard, service, seen)
                continue
            assert seen, f"no session of {service} on the {shard} primary"
            assert set(seen) == {(role_of(service), False, False)}, (shard, service, seen)


def test_the_service_roles_hold_no_power_beyond_their_grants(cluster):
    roles = sorted(role_of(s) for s in PG_SERVICES)
    for shard in SHARD_NAMES:
        rows = cluster.query(shard, "primary", "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, "
                                               "rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = ANY(%s) "
                                               "ORDER BY rolname", (roles,))
        assert rows == [(role, False, False, False, False, False, True) for role in roles]
        members = cluster.query(shard, "primary", "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r "
                                                  "ON r.oid = m.member WHERE r.rolname = ANY(%s)", (roles,))
        assert members == [(0,)]


def test_no_routine_is_everyones_and_every_table_but_the_migrations_is_some_services(cluster):
    """A guard for later migrations: a routine they add is executable by no one until granted, and a table
    no service role may use is a table a service will fail on (only schema_migrations is the admin's)."""
    for shard in SHARD_NAMES:
        public = cluster.query(shard, "primary", "SELECT p.proname FROM pg_proc p JOIN pg_namespace n "
                                                 "ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND "
                                                 "(p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a "
                                                 "WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))")
        assert public == [], shard
        orphans = cluster.query(shard, "primary", "SELECT c.relname FROM pg_class c JOIN pg_namespace n "
                                                  "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND "
                                                  "c.relkind IN ('r', 'p') AND NOT EXISTS (SELECT 1 FROM "
                                                  "unnest(%s::text[]) r(role) WHERE has_table_privilege(r.role, "
                                                  "c.oid, 'SELECT') OR has_any_column_privilege(r.role, c.oid, "
                                                  "'SELECT')) ORDER BY 1", ([role_of(s) for s in PG_SERVICES],))
        assert orphans == [("schema_migrations",)], shard


def test_the_users_role_is_refused_on_transactions(cluster, every_service_called):
    conn = connect_as(cluster, "users")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_user")
            assert cur.fetchone() == (role_of("users"),)
            with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="permission denied"):
                cur.execute("SELECT count(*) FROM transactions")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="permission denied"):
                cur.execute("INSERT INTO transactions (id, user_id, kind, status, amount, currency) "
                            "VALUES (1, 1, 'CHARGE', 'SUCCEEDED', 1, 'EUR')")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="permission denied"):
                cur.execute("DELETE FROM transactions")
    finally:
        conn.close()
    payer = every_service_called
    assert cluster.query("eu", "primary", "SELECT count(*) FROM transactions WHERE user_id = %s",
                         (payer.user.id,)) == [(1,)]  # the refused DELETE removed nothing


# One statement per service on a table another service owns; each must be refused.
REFUSED = [
    ("users", "SELECT count(*) FROM payment_methods"),
    ("users", "SELECT count(*) FROM enrollments"),
    ("courses", "SELECT count(*) FROM transactions"),
    ("courses", "UPDATE enrollments SET state = state"),
    ("courses", "SELECT count(*) FROM email_directory"),
    ("enrollments", "SELECT count(*) FROM refresh_tokens"),
    ("enrollments", "SELECT count(*) FROM invoices"),
    ("enrollments", "UPDATE courses SET title = title"),
    ("payments", "SELECT password_hash FROM users"),
    ("payments", "SELECT count(*) FROM course_reviews"),
    ("payments", "UPDATE enrollments SET state = state"),
    ("payments", "UPDATE invoices SET tax = tax"),
    ("payments", "SELECT count(*) FROM tpc_decisions"),
]


@pytest.mark.parametrize(("service", "statement"), REFUSED)
def test_a_service_role_cannot_touch_another_services_table(cluster, service, statement):
    conn = connect_as(cluster, service)
    try:
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege, match="permission denied"):
            cur.execute(statement)
    finally:
        conn.close()


def test_a_service_role_cannot_call_another_services_routine(cluster):
    conn = connect_as(cluster, "users")
    try:
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege, match="permission denied"):
            cur.execute("SELECT * FROM revenue_report(NULL, now() - interval '1 day', now())")
    finally:
        conn.close()


def test_a_service_role_reads_what_its_own_service_wrote(cluster, every_service_called):
    """The grants are not too narrow: the payments role reads the charge, its enrollment and the payer's
    region (the columns it is granted), and a users session sees its own user."""
    payer = every_service_called
    conn = connect_as(cluster, "payments")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM transactions t JOIN users u ON u.id = t.user_id "
                        "WHERE t.user_id = %s AND u.region = 'EUROPE'", (payer.user.id,))
            assert cur.fetchone() == (1,)
    finally:
        conn.close()
    conn = connect_as(cluster, "users")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM users WHERE id = %s", (payer.user.id,))
            assert cur.fetchone() == (1,)
    finally:
        conn.close()


def test_a_wrong_password_for_a_service_role_is_refused(cluster):
    dsn = cluster.layout.pg_dsn(cluster.layout.pg_port("eu", "primary"))
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(dsn, user=role_of("users"), password=uuid.uuid4().hex)
