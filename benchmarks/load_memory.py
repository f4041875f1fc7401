"""The load driver's memory against the number of calls: one `elearn load --total N` (the real driver code path,
N the largest of --calls) against the fast fake backend (benchmarks.fake_backend, in its own process so its
memory is not the driver's), the driver's RSS sampled from /proc as the run goes and printed as each of --calls
is passed: `calls=N rss_mb=now rss_max_mb=peak so far`. Then the peak of the whole run, report writing
included. Flat means the driver keeps no per-call data; the target is under 200 MB at a million calls.

    python -m benchmarks.load_memory                       # checkpoints at 10k, 100k and 300k calls
    python -m benchmarks.load_memory --calls 10000 100000 300000 1000000
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator

from shared.settings import local_topology

TARGET_MB = 200
SAMPLE_S = 0.25


@contextlib.contextmanager
def fake_backend() -> Iterator[str]:
    """The fake backend in its own process (its memory and CPU are not the driver's); yields its address."""
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.fake_backend"], stdout=subprocess.PIPE, text=True)
    try:
        port = process.stdout.readline().strip() if process.stdout else ""
        if not port.isdigit():
            sys.exit("load_memory: the fake backend did not start")
        yield f"127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait()


def rss_mb(pid: int) -> float | None:
    """The resident set of process `pid` now (VmRSS), in MB; None once it has exited."""
    try:
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


class CsvRows:
    """Rows in the per-call CSV the driver writes as it goes (its calls so far, within the few hundred rows
    its write buffer holds), counted from the bytes appended since the last look."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self._offset = 0
        self._newlines = 0

    def count(self) -> int:
        try:
            with self.path.open("rb") as file:
                file.seek(self._offset)
                chunk = file.read()
        except FileNotFoundError:
            return 0
        self._offset += len(chunk)
        self._newlines += chunk.count(b"\n")
        return max(self._newlines - 1, 0)  # the header row


def _topology(folder: pathlib.Path) -> pathlib.Path:
    """The local topology without metrics endpoints (nothing of another cluster is scraped) and in plaintext."""
    topology = local_topology()
    topology.pop("metrics", None)
    topology["tls"] = {"insecure": True}
    path = folder / "topology.json"
    path.write_text(json.dumps(topology))
    return path


def run(gateway: str, checkpoints: list[int], folder: pathlib.Path) -> dict:
    """One `elearn load --total max(checkpoints)`; prints a line at each checkpoint as the run passes it and
    returns the figures of the whole run (peak RSS from wait4, time, the sizes of the JSON and CSV)."""
    total = checkpoints[-1]
    report = folder / f"load-{total}.pdf"
    command = [sys.executable, "-m", "launcher.cli", "load", "--gateway", gateway, "--total", str(total),
               "--invalid-ratio", "0", "--report", str(report), "--name", f"memory-{total}"]
    env = {**os.environ, "ELEARN_CONFIG": str(_topology(folder))}
    env.pop("ELEARN_TOPOLOGY", None)
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    rows, samples = CsvRows(report.with_suffix(".csv")), []
    stop = threading.Event()
    sampled_peak = [0.0]

    def sample() -> None:
        pending = list(checkpoints)
        while pending and not stop.wait(SAMPLE_S):
            now = rss_mb(process.pid)
            if now is None:
                return
            sampled_peak[0], calls = max(sampled_peak[0], now), rows.count()
            peak = sampled_peak[0]
            while pending and calls >= pending[0]:
                row = {"calls": pending.pop(0), "rss_mb": now, "rss_max_mb": peak,
                       "seconds": time.perf_counter() - began}
                samples.append(row)
                print(f"calls={row['calls']} rss_mb={now:.1f} rss_max_mb={peak:.1f}  "
                      f"({row['seconds']:.0f} s, {calls / row['seconds']:.0f} calls/s)", flush=True)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    stop.set()
    sampler.join()
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"load_memory: the run of {total} calls failed: {stderr[-2000:]}")
    # The kernel's high-water mark, or a sample above it (the two count a few shared pages differently).
    return {"calls": total, "rss_max_mb": max(usage.ru_maxrss / 1024, sampled_peak[0]), "seconds": seconds,
            "samples": samples,
            "json_kb": report.with_suffix(".json").stat().st_size / 1024,
            "csv_mb": report.with_suffix(".csv").stat().st_size / 2 ** 20, "csv_rows": rows.count()}


def growth_line(samples: list[dict]) -> str | None:
    """RSS growth per 1,000 calls between the last two checkpoints (the pool of created IDs fills to its cap
    early in a run, then stays), or None with fewer than two."""
    if len(samples) < 2:
        return None
    before, last = samples[-2], samples[-1]
    growth = (last["rss_mb"] - before["rss_mb"]) * 1024 / ((last["calls"] - before["calls"]) / 1000)
    return (f"RSS at {last['calls']:,} / at {samples[0]['calls']:,} calls: "
            f"{last['rss_mb'] / samples[0]['rss_mb']:.2f}; from {before['calls']:,} to {last['calls']:,} calls "
            f"{growth:+.2f} KB per 1,000 more calls")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="load_memory", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[10_000, 100_000, 300_000],
                        help="checkpoints; the run makes the largest number of calls")
    args = parser.parse_args(argv)
    checkpoints = sorted(set(args.calls))
    if checkpoints[0] < 1:
        parser.error("--calls: every number must be at least 1")
    with fake_backend() as gateway, tempfile.TemporaryDirectory(prefix="load-memory-") as folder:
        whole = run(gateway, checkpoints, pathlib.Path(folder))
    if line := growth_line(whole["samples"]):
        print(line)
    print(f"calls={whole['calls']} rss_max_mb={whole['rss_max_mb']:.1f}  (the whole run, report included: "
          f"{whole['seconds']:.0f} s, {whole['calls'] / whole['seconds']:.0f} calls/s; JSON {whole['json_kb']:.0f} KB,"
          f" CSV {whole['csv_mb']:.1f} MB, {whole['csv_rows']:,} rows)")
    verdict = "under" if whole["rss_max_mb"] < TARGET_MB else "OVER"
    print(f"peak RSS at {whole['calls']:,} calls: {whole['rss_max_mb']:.1f} MB, {verdict} the {TARGET_MB} MB target")
    return 0 if whole["rss_max_mb"] < TARGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
