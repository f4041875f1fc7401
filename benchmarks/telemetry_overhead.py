"""What telemetry costs a call: the single-call rate (concurrency 1) of RecordLessonProgress through a gateway
and an enrollments service started for the measurement with metrics and tracing on (traces sampled at 1 %),
with those and the access log on (every call logged, up to ELEARN_ACCESS_LOG_MAX_PER_S lines a second),
and with telemetry off, side by side on the same cluster. The pairs are fresh processes, alike but for those
settings, so each ratio is their cost alone (issue 17's target, for metrics and tracing: on/off >= 0.95; the
access log is a log line a call, whose volume its own settings bound, printed beside it). Beside the rates, the CPU
time the pair spent per call (every call, the warm-up's too; less what the pair spends idle: health checks,
the replica monitor), which a busy machine moves much less than the rate. `make bench` measures it once;
`make bench-telemetry` (python -m benchmarks.telemetry_overhead --data-dir DIR --rounds N) alone, N times
over, with fresh pairs each round, so the spread shows."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence

from benchmarks.cpu_account import total_cpu_s
from benchmarks.measure import Figures, at_once, side_by_side
from launcher.layout import Layout
from launcher.processes import wait_serving

SAMPLE_RATIO = "0.01"
# The pairs measured: their settings beyond the cluster's.
ARMS = {
    "on": {"ELEARN_TELEMETRY": "on", "ELEARN_ACCESS_LOG_MAX_PER_S": "0"},  # metrics and tracing
    "logged": {"ELEARN_TELEMETRY": "on"},  # and the access log, at its defaults
    "off": {"ELEARN_TELEMETRY": "off"},
}
LABELS = {"on": "metrics + tracing (1 % traced)", "logged": "metrics + tracing + access log", "off": "telemetry off"}
CONCURRENCY = 1
IDLE_S = 4.0  # how long each pair's idle CPU (background loops) is measured, to be subtracted


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Metered:
    """A measurement run that also adds up the CPU time its pair of processes spent, the time it took and the
    calls it made; `idle_cpu_per_s` is what the pair spends a second without calls."""

    def __init__(self, pids: Sequence[int], run: Callable[[float], Figures]) -> None:
        self.pids, self.run = pids, run
        self.cpu_s = self.wall_s = self.idle_cpu_per_s = 0.0
        self.calls = 0

    def __call__(self, seconds: float) -> Figures:
        cpu_before, wall_before = total_cpu_s(self.pids), time.perf_counter()
        figures = self.run(seconds)
        self.cpu_s += total_cpu_s(self.pids) - cpu_before
        self.wall_s += time.perf_counter() - wall_before
        self.calls += figures.all_calls
        return figures

    def us_per_call(self) -> float:
        busy = self.cpu_s - self.idle_cpu_per_s * self.wall_s
        return busy / self.calls * 1e6 if self.calls else 0.0


def idle_cpu_per_s(metered: Sequence[_Metered], seconds: float) -> None:
    """Each pair's CPU time a second while no calls are made (all pairs idle at once), into idle_cpu_per_s."""
    before = [total_cpu_s(m.pids) for m in metered]
    time.sleep(seconds)
    for m, cpu in zip(metered, before, strict=True):
        m.idle_cpu_per_s = (total_cpu_s(m.pids) - cpu) / seconds


@contextlib.contextmanager
def _pair(layout: Layout, telemetry: str, folder: pathlib.Path) -> Iterator[tuple[str, list[int]]]:
    """An enrollments service and a gateway routing to it, with telemetry `telemetry` (one of ARMS); yields the
    gateway's address and the two processes' IDs."""
    host = layout.ports.host
    topology = json.loads(layout.topology_file.read_text())
    enrollments, gateway = f"{host}:{_free_port()}", f"{host}:{_free_port()}"
    topology["services"]["enrollments"], topology["gateway"] = enrollments, gateway
    topology["metrics"] = {"enrollments": f"{host}:{_free_port()}", "gateway": f"{host}:{_free_port()}"}
    config = folder / f"topology-{telemetry}.json"
    config.write_text(json.dumps(topology))
    # The cluster's signing keys: every call is authenticated, and a process without them refuses every token.
    env = {**os.environ, "ELEARN_CONFIG": str(config), **ARMS[telemetry], "ELEARN_AUTH_DIR": str(layout.auth_dir),
           "ELEARN_TRACE_SAMPLE_RATIO": SAMPLE_RATIO, "ELEARN_TRACE_DIR": str(folder / f"traces-{telemetry}")}
    started = []
    try:
        for module, address, health in (("services.enrollments.main", enrollments,
                                         "elearning.enrollments.v1.EnrollmentService"),
                                        ("gateway.main", gateway, "elearning.enrollments.v1.EnrollmentService")):
            log = (folder / f"{module}-{telemetry}.log").open("ab")
            started.append(subprocess.Popen([sys.executable, "-m", module], env=env, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
            if not wait_serving(address, health, 120, alive=lambda: started[-1].poll() is None,
                                tls=layout.client_tls()):
                raise RuntimeError(f"{module} (telemetry {telemetry}) did not serve; see {log.name}")
        yield gateway, [proc.pid for proc in started]
    finally:
        for proc in reversed(started):
            proc.send_signal(signal.SIGTERM)
        for proc in started:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _report(how: str, measured: dict[str, Figures], metered: dict[str, _Metered]) -> float:
    """Prints each pair's rate and its ratio to telemetry off, and each pair's CPU per call; returns the ratio
    of metrics and tracing on to off."""
    for figures in measured.values():
        print(figures.line())
        if figures.errors:
            # A ratio of failing calls says nothing about telemetry's cost: the setup is wrong, say so.
            raise RuntimeError(f"{figures.label}: {figures.errors} calls failed, so no cost can be measured")
    off, cpu_off = measured["off"], metered["off"].us_per_call()
    ratios = {name: measured[name].rate / off.rate if off.rate else 0.0 for name in measured if name != "off"}
    print(f"single call ({how}): telemetry on/off = {ratios['on']:.3f}  (metrics + tracing at 1 %: "
          f"{measured['on'].rate:.0f}/s against {off.rate:.0f}/s, p50 {measured['on'].p50_ms:.2f} ms against "
          f"{off.p50_ms:.2f} ms; target >= 0.95)")
    if "logged" in ratios:
        print(f"single call ({how}): with the access log too, logged/off = {ratios['logged']:.3f}  "
              f"({measured['logged'].rate:.0f}/s, every call logged)")
    print(f"single call ({how}): CPU of gateway + enrollments per call: " + ", ".join(
        f"{name} {metered[name].us_per_call():.0f} us ({metered[name].us_per_call() / cpu_off if cpu_off else 0:.3f}"
        f" of off)" for name in metered) + f"; over {', '.join(f'{m.calls:,}' for m in metered.values())} calls, "
        f"idle CPU subtracted")
    return ratios["on"]


def measure(layout: Layout, drive: Callable[[str, str, int, float, int], Figures],
            seconds: float) -> tuple[float, float]:
    """The pairs measured side by side (A B C C B A), then at once; `drive(address, label, concurrency, seconds,
    part)` drives one, on its own `part` (0, 1 or 2: one of len(ARMS)) of the enrollments, so that run at once they
    never write the same rows. Prints both ways; returns the two ratios of metrics and tracing on to off."""
    with tempfile.TemporaryDirectory(prefix="elearn-telemetry-bench-") as tmp:
        folder = pathlib.Path(tmp)
        with contextlib.ExitStack() as pairs:
            started = {name: pairs.enter_context(_pair(layout, name, folder)) for name in ARMS}
            ratios = []
            for how, method in (("side by side", side_by_side), ("at once", at_once)):
                metered = {name: _Metered(pids, lambda s, name=name, address=address: drive(
                    address, LABELS[name], CONCURRENCY, s, list(ARMS).index(name)))
                    for name, (address, pids) in started.items()}
                idle_cpu_per_s(list(metered.values()), IDLE_S)
                ratios.append(_report(how, method(metered, seconds), metered))
    return ratios[0], ratios[1]


def main(argv: list[str] | None = None) -> int:
    # Imported here: write_path (make bench) imports this module for its own telemetry line.
    from benchmarks import write_path
    parser = argparse.ArgumentParser(prog="telemetry_overhead", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data-dir", default=".elearn/bench", help="the local cluster to measure")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    layout = Layout.load(pathlib.Path(args.data_dir).resolve())
    tls = layout.client_tls()
    targets = write_path.setup(f"{layout.ports.host}:{layout.ports.gateway}", 64, layout.auth_dir, tls)
    rounds = [measure(layout, lambda address, label, c, s, part: asyncio.run(
        write_path.progress(address, label, targets[part::len(ARMS)], c, s, tls)), args.seconds)
        for _round in range(args.rounds)]
    for how, ratios in (("side by side", [r[0] for r in rounds]), ("at once", [r[1] for r in rounds])):
        print(f"telemetry on/off {how} over {len(ratios)} rounds: {', '.join(f'{r:.3f}' for r in ratios)} "
              f"(median {sorted(ratios)[len(ratios) // 2]:.3f}; target >= 0.95)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
