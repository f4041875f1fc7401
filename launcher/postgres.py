"""PostgreSQL nodes of the local cluster: initdb, streaming replicas by pg_basebackup, start and stop.

PostgreSQL refuses to run as root, so when this runs as root every server command runs as the
unprivileged `postgres` system user, in folders that user owns.
"""
from __future__ import annotations

import os
import pathlib
import pwd
import shutil
import subprocess
import time

import psycopg2

DATABASE = "elearning"
SERVER_SETTINGS = """
# elearn local cluster
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sockets}'
max_connections = 300
shared_buffers = 128MB
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = 256MB
hot_standby = on
hot_standby_feedback = on
max_prepared_transactions = 100
synchronous_commit = on
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
"""


class PostgresError(RuntimeError):
    pass


def _run_as() -> str | None:
    return "postgres" if os.geteuid() == 0 else None


def bin_dir() -> pathlib.Path:
    """The folder of the PostgreSQL 15 server binaries."""
    for candidate in (os.environ.get("ELEARN_PG_BIN"), "/usr/lib/postgresql/15/bin"):
        if candidate and (pathlib.Path(candidate) / "pg_ctl").exists():
            return pathlib.Path(candidate)
    found = shutil.which("pg_ctl")
    if found:
        return pathlib.Path(found).resolve().parent
    raise PostgresError("PostgreSQL 15 server binaries not found (install postgresql-15 or set ELEARN_PG_BIN)")


def _as_user(command: list[str]) -> tuple[list[str], str | None]:
    """`command` run as the PostgreSQL user when this runs as root: through runuser when there is one, so
    Python starts it with vfork, not fork. A plain fork of a process that uses gRPC runs gRPC's fork handlers,
    which can abort the child before it execs (seen with writer threads still winding down)."""
    user = _run_as()
    if user is None:
        return command, None
    runuser = shutil.which("runuser")
    return ([runuser, "-u", user, "--", *command], None) if runuser else (command, user)


def _cmd(args: list[str], *, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    command, user = _as_user([str(bin_dir() / args[0]), *args[1:]])
    result = subprocess.run(command, user=user, capture_output=True, text=True, timeout=timeout, cwd="/")
    if check and result.returncode != 0:
        raise PostgresError(f"{args[0]} failed ({result.returncode}): {(result.stderr or result.stdout).strip()}")
    return result


def own(path: pathlib.Path) -> None:
    """Create `path` and give it to the PostgreSQL user."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    user = _run_as()
    if user:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def dsn(port: int, database: str = DATABASE) -> str:
    return f"host=127.0.0.1 port={port} dbname={database} user=postgres connect_timeout=3"


def is_initialized(data: pathlib.Path) -> bool:
    return (data / "PG_VERSION").exists()


def _alive(pid: int) -> bool:
    """Whether `pid` runs: a killed process nobody has reaped yet is a zombie, which kill(pid, 0) (and so
    pg_ctl, and PostgreSQL's own lock-file check) would take for a live one."""
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _first_line_pid(path: pathlib.Path) -> int | None:
    try:
        return int(path.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def postmaster_pid(data: pathlib.Path) -> int | None:
    """The PID of the node's postmaster when it is alive, else None."""
    pid = _first_line_pid(data / "postmaster.pid")
    return pid if pid is not None and _alive(pid) else None


def clear_stale_socket_locks(sockets: pathlib.Path) -> None:
    """Remove socket lock files left by a killed postmaster that is still a zombie (PostgreSQL removes a
    stale lock by itself only once its PID is gone)."""
    for lock in sockets.glob(".s.PGSQL.*.lock"):
        pid = _first_line_pid(lock)
        if pid is not None and not _alive(pid):
            lock.unlink(missing_ok=True)
            lock.with_suffix("").unlink(missing_ok=True)


def is_standby(data: pathlib.Path) -> bool:
    """Whether the node starts as a standby (pg_basebackup -R left standby.signal; promotion removes it)."""
    return (data / "standby.signal").exists()


def is_running(data: pathlib.Path) -> bool:
    return is_initialized(data) and postmaster_pid(data) is not None


def init_primary(data: pathlib.Path, port: int, sockets: pathlib.Path, name: str) -> None:
    """initdb a new primary and configure it for streaming replication and two-phase commit."""
    if data.exists():
        shutil.rmtree(data)  # a half-made node from an interrupted first run
    own(data.parent)
    own(sockets)
    _cmd(["initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
          "--no-instructions"])
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(SERVER_SETTINGS.format(port=port, sockets=sockets))
        conf.write(f"cluster_name = '{name}'\n")


def create_database(port: int) -> None:
    conn = psycopg2.connect(dsn(port, "postgres"))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
            if cur.fetchone() is None:
                cur.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        conn.close()


def init_replica(data: pathlib.Path, port: int, primary_port: int, slot: str, name: str) -> None:
    """A streaming replica of the primary on `primary_port`: pg_basebackup -R with a replication slot.

    `name` becomes its cluster_name, which is also the application name its WAL receiver reports: the name
    synchronous_standby_names lists."""
    if data.exists():
        shutil.rmtree(data)
    own(data.parent)
    conn = psycopg2.connect(dsn(primary_port, "postgres"))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                        "WHERE slot_name = %s AND NOT active", (slot,))
    finally:
        conn.close()
    _cmd(["pg_basebackup", "-h", "127.0.0.1", "-p", str(primary_port), "-U", "postgres", "-D", str(data),
          "-R", "-X", "stream", "-C", "-S", slot, "--checkpoint=fast"], timeout=300)
    with open(data / "postgresql.auto.conf", "a") as conf:
        conf.write(f"port = {port}\n")
    name_node(data, name)


def _execute(port: int, sql: str, params=(), timeout_s: float = 3, then: str = "") -> list[tuple]:
    """One statement on the node at `port` (and `then`, a second one, on the same connection)."""
    conn = psycopg2.connect(dsn(port, "postgres"), connect_timeout=max(1, round(timeout_s)))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall() if cur.description else []
            if then:
                cur.execute(then)
            return rows
    finally:
        conn.close()


def set_synchronous_standbys(port: int, names: list[str]) -> None:
    """Make commits on the node at `port` wait for one of `names` to have flushed their WAL (none: async).

    Set on both nodes of a shard, so a promoted replica keeps the guarantee from its first commit: a
    standby ignores the setting until it is promoted, and a node never counts itself."""
    value = f"ANY 1 ({', '.join(names)})" if names else ""
    _execute(port, "ALTER SYSTEM SET synchronous_standby_names = %s", (value,), then="SELECT pg_reload_conf()")


def promote(port: int, timeout_s: int = 60) -> None:
    """Promote the replica at `port` and return once it accepts writes."""
    rows = _execute(port, "SELECT pg_promote(true, %s)", (timeout_s,), timeout_s=5)
    if not rows or not rows[0][0]:
        raise PostgresError(f"the replica on port {port} was not promoted within {timeout_s} s")


def wait_streaming(primary_port: int, standby: str, timeout_s: float = 60) -> bool:
    """Wait until `standby` streams from the primary at `primary_port` (asking over one connection)."""
    give_up = time.monotonic() + timeout_s
    conn = None
    try:
        while time.monotonic() < give_up:
            try:
                if conn is None or conn.closed:
                    conn = psycopg2.connect(dsn(primary_port, "postgres"), connect_timeout=3)
                    conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute("SELECT 1 FROM pg_stat_replication WHERE application_name = %s "
                                "AND state = 'streaming'", (standby,))
                    if cur.fetchone():
                        return True
            except psycopg2.Error:
                if conn is not None:
                    conn.close()
            time.sleep(0.05)
        return False
    finally:
        if conn is not None:
            conn.close()


def name_node(data: pathlib.Path, name: str) -> None:
    """Give a stopped node its cluster_name (the standby name synchronous_standby_names lists)."""
    with open(data / "postgresql.auto.conf", "a") as conf:
        conf.write(f"cluster_name = '{name}'\n")


def remove_data(data: pathlib.Path) -> None:
    """Delete a stopped node's data folder (a fenced old primary about to be rebuilt as a replica)."""
    if is_running(data):
        raise PostgresError(f"{data}: the node still runs; stop it before removing its data")
    shutil.rmtree(data, ignore_errors=True)


def start(data: pathlib.Path, log_file: pathlib.Path, sockets: pathlib.Path | None = None) -> None:
    own(log_file.parent)
    if sockets is not None:
        clear_stale_socket_locks(sockets)
    if postmaster_pid(data) is None:
        (data / "postmaster.pid").unlink(missing_ok=True)  # left by a killed postmaster (maybe a zombie)
    _cmd(["pg_ctl", "start", "-D", str(data), "-l", str(log_file), "-w", "-t", "60"], timeout=90)


def stop(data: pathlib.Path, mode: str = "fast", timeout_s: int = 60) -> None:
    if is_running(data):
        _cmd(["pg_ctl", "stop", "-D", str(data), "-m", mode, "-w", "-t", str(timeout_s)], timeout=timeout_s + 30)

