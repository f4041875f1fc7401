"""pgbench as the yardstick: the raw single-row INSERT rate of one shard primary, with p50/p99 from its
per-transaction log."""
from __future__ import annotations

import pathlib
import re
import shutil
import subprocess
import tempfile

import psycopg2

from benchmarks.measure import Figures

SCRIPT = "\\set v random(1, 1000000)\nINSERT INTO bench_inserts (v) VALUES (:v);\n"


def pgbench_binary() -> str:
    found = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    if not pathlib.Path(found).exists():
        raise SystemExit("pgbench not found (Debian: postgresql-client-15)")
    return found


def prepare(port: int, auth: str) -> None:
    with psycopg2.connect(f"host=127.0.0.1 port={port} dbname=elearning user=postgres {auth}") as conn:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS bench_inserts (id bigserial PRIMARY KEY, v integer NOT NULL, "
                        "at timestamptz NOT NULL DEFAULT now())")


def run(port: int, concurrency: int, seconds: float, auth: str = "") -> Figures:
    """`auth`: the cluster's passfile and TLS options (Layout.pg_auth), passed to pgbench in its conninfo."""
    prepare(port, auth)
    with tempfile.TemporaryDirectory(prefix="pgbench-") as folder:
        script = pathlib.Path(folder) / "insert.sql"
        script.write_text(SCRIPT)
        result = subprocess.run(
            [pgbench_binary(), "-n", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-f", str(script),
             "-c", str(concurrency), "-j", "2", "-T", str(int(seconds)), "--log", "--log-prefix",
             f"{folder}/tx", f"dbname=elearning {auth}"],
            capture_output=True, text=True, timeout=seconds + 60, cwd=folder)
        if result.returncode != 0:
            raise SystemExit(f"pgbench failed: {result.stderr.strip()}")
        tps = float(re.search(r"tps = ([0-9.]+)", result.stdout).group(1))
        latencies = sorted(int(line.split()[2]) / 1000 for log in pathlib.Path(folder).glob("tx*")
                           for line in log.read_text().splitlines() if line.strip())
    return Figures.of("pgbench one-row INSERT", concurrency, latencies, 0,
                      len(latencies) / tps if tps else seconds)
