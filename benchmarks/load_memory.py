"""The load driver's memory against the number of calls: `elearn load --total N` against the fast fake
backend (benchmarks.fake_backend), each N in a fresh process, its peak RSS printed beside N. Flat means the
driver keeps no per-call data; the target is under 200 MB at a million calls.

    python -m benchmarks.load_memory                      # 10k, 100k and 300k calls
    python -m benchmarks.load_memory --calls 10000 1000000
"""
from __future__ import annotations

import argparse
import contextlib
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

TARGET_MB = 200


@contextlib.contextmanager
def fake_backend() -> Iterator[str]:
    """The fake backend in its own process (its memory and CPU are not the driver's); yields its address."""
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.fake_backend"], stdout=subprocess.PIPE, text=True)
    try:
        port = process.stdout.readline().strip()
        if not port.isdigit():
            sys.exit("load_memory: the fake backend did not start")
        yield f"127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait()


def drive(gateway: str, calls: int, folder: pathlib.Path) -> dict:
    """One `elearn load --total calls` run; its peak RSS (from wait4), time, and the size of what it wrote."""
    report = folder / f"load-{calls}.pdf"
    command = [sys.executable, "-m", "launcher.cli", "load", "--gateway", gateway, "--total", str(calls),
               "--invalid-ratio", "0", "--report", str(report), "--name", f"memory-{calls}"]
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"load_memory: the run of {calls} calls failed: {process.stderr.read().decode()[-2000:]}")
    process.stderr.close()
    return {"calls": calls, "rss_mb": usage.ru_maxrss / 1024, "seconds": seconds,
            "json_kb": report.with_suffix(".json").stat().st_size / 1024,
            "csv_mb": report.with_suffix(".csv").stat().st_size / 2 ** 20}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="load_memory", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[10_000, 100_000, 300_000])
    args = parser.parse_args(argv)
    rows = []
    with fake_backend() as gateway, tempfile.TemporaryDirectory(prefix="load-memory-") as folder:
        print(f"{'calls':>10}  {'peak RSS':>10}  {'calls/s':>8}  {'JSON':>8}  {'CSV':>8}")
        for calls in sorted(args.calls):
            row = drive(gateway, calls, pathlib.Path(folder))
            rows.append(row)
            print(f"{row['calls']:>10,}  {row['rss_mb']:>7.1f} MB  {row['calls'] / row['seconds']:>8.0f}  "
                  f"{row['json_kb']:>5.0f} KB  {row['csv_mb']:>5.1f} MB", flush=True)
    first, last = rows[0], rows[-1]
    if len(rows) > 1:
        # Between the last two sizes: the pool of created IDs fills to its cap early in a run, then stays.
        before = rows[-2]
        growth = (last["rss_mb"] - before["rss_mb"]) * 1024 / ((last["calls"] - before["calls"]) / 1000)
        print(f"RSS {last['calls']:,} calls / {first['calls']:,} calls: {last['rss_mb'] / first['rss_mb']:.2f}; "
              f"from {before['calls']:,} to {last['calls']:,} calls {growth:+.1f} KB per 1,000 more calls")
    verdict = "under" if last["rss_mb"] < TARGET_MB else "OVER"
    print(f"peak RSS at {last['calls']:,} calls: {last['rss_mb']:.1f} MB, {verdict} the {TARGET_MB} MB target")
    return 0 if last["rss_mb"] < TARGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
