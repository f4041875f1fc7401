"""What telemetry costs a call: the single-call rate (concurrency 1) of RecordLessonProgress through a gateway
and an enrollments service started for the measurement with telemetry on (metrics, access log, traces
sampled at 1 %) and off, side by side on the same cluster. Both pairs are fresh processes, alike but for
ELEARN_TELEMETRY, so the ratio is the step's cost alone (target: on/off >= 0.95)."""
from __future__ import annotations

import contextlib
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator

from benchmarks.measure import Figures, side_by_side
from launcher.layout import Layout
from launcher.processes import wait_serving

SAMPLE_RATIO = "0.01"
CONCURRENCY = 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def _pair(layout: Layout, telemetry: str, folder: pathlib.Path) -> Iterator[str]:
    """An enrollments service and a gateway routing to it, with ELEARN_TELEMETRY=`telemetry`; yields the
    gateway's address."""
    host = layout.ports.host
    topology = json.loads(layout.topology_file.read_text())
    enrollments, gateway = f"{host}:{_free_port()}", f"{host}:{_free_port()}"
    topology["services"]["enrollments"], topology["gateway"] = enrollments, gateway
    topology["metrics"] = {"enrollments": f"{host}:{_free_port()}", "gateway": f"{host}:{_free_port()}"}
    config = folder / f"topology-{telemetry}.json"
    config.write_text(json.dumps(topology))
    # The cluster's signing keys: every call is authenticated, and a process without them refuses every token.
    env = {**os.environ, "ELEARN_CONFIG": str(config), "ELEARN_TELEMETRY": telemetry,
           "ELEARN_AUTH_DIR": str(layout.auth_dir),
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
        yield gateway
    finally:
        for proc in reversed(started):
            proc.send_signal(signal.SIGTERM)
        for proc in started:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def measure(layout: Layout, drive: Callable[[str, str, int, float], Figures], seconds: float) -> float:
    """Prints both rates and their ratio (telemetry on / off); returns the ratio."""
    with tempfile.TemporaryDirectory(prefix="elearn-telemetry-bench-") as tmp:
        folder = pathlib.Path(tmp)
        with _pair(layout, "on", folder) as on, _pair(layout, "off", folder) as off:
            measured = side_by_side({
                "on": lambda s: drive(on, "telemetry on (1 % traced)", CONCURRENCY, s),
                "off": lambda s: drive(off, "telemetry off", CONCURRENCY, s),
            }, seconds)
    for figures in measured.values():
        print(figures.line())
        if figures.errors:
            # A ratio of failing calls says nothing about telemetry's cost: the setup is wrong, say so.
            raise RuntimeError(f"{figures.label}: {figures.errors} calls failed, so no cost can be measured")
    ratio = measured["on"].rate / measured["off"].rate if measured["off"].rate else 0.0
    print(f"single call: telemetry on/off = {ratio:.3f}  (on {measured['on'].rate:.0f}/s, off "
          f"{measured['off'].rate:.0f}/s, p50 {measured['on'].p50_ms:.2f} ms against {measured['off'].p50_ms:.2f} ms;"
          f" target >= 0.95)")
    return ratio
