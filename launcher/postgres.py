"""PostgreSQL nodes of the local cluster as the launcher sees them (Patroni runs them): where the server
binaries are, folders the `postgres` user owns, whether a node's postmaster lives, and a last-resort stop of
a postmaster whose Patroni was killed.

PostgreSQL refuses to run as root, so when this runs as root every server command runs as the
unprivileged `postgres` system user, in folders that user owns.
"""
from __future__ import annotations

import os
import pathlib
import pwd
import shutil
import subprocess

import psycopg2

DATABASE = "elearning"


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


def is_running(data: pathlib.Path) -> bool:
    return is_initialized(data) and postmaster_pid(data) is not None


def create_database(dsn: str) -> None:
    """`dsn` names the node's `postgres` database; creates the `elearning` one beside it when missing."""
    conn = psycopg2.connect(dsn)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
            if cur.fetchone() is None:
                cur.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        conn.close()


def stop(data: pathlib.Path, mode: str = "fast", timeout_s: int = 60) -> None:
    if is_running(data):
        _cmd(["pg_ctl", "stop", "-D", str(data), "-m", mode, "-w", "-t", str(timeout_s)], timeout=timeout_s + 30)
