"""A server process says SERVING only once all of it has started, and a SIGTERM that comes as soon as it says
so stops it gracefully (NOT_SERVING, then exit 0). Before, health said SERVING as soon as the gRPC server
listened, while start-up went on; a SIGTERM then waited for the rest of start-up with health still SERVING
(test_graceful_shutdown saw it for 5 s on a loaded machine)."""
import os
import signal
import subprocess
import sys
import time

from launcher.processes import health_status
from tests.unit.slow_start_process import SERVICE, SLOW_START_S


def free_port() -> int:
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serving_only_after_start_up_and_a_sigterm_right_then_stops_it_gracefully():
    port = free_port()
    address = f"127.0.0.1:{port}"
    env = {**os.environ, "ELEARN_LISTEN": address, "ELEARN_TLS_INSECURE": "1", "ELEARN_DRAIN_S": "0.5",
           "ELEARN_TELEMETRY": "off"}
    proc = subprocess.Popen([sys.executable, "-m", "tests.unit.slow_start_process"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        seen: list[tuple[float, str, str]] = []
        start = time.monotonic()
        while time.monotonic() - start < 30 and proc.poll() is None:
            states = health_status(address, SERVICE, timeout_s=0.5), health_status(address, "", timeout_s=0.5)
            seen.append((time.monotonic() - start, *states))
            if states == ("SERVING", "SERVING"):
                break
            time.sleep(0.05)
        listening = [t for t, service, whole in seen if "UNREACHABLE" not in (service, whole)]
        serving = [t for t, service, whole in seen if "SERVING" in (service, whole)]
        assert serving, seen[-5:]
        # Listening, it said anything but SERVING for the rest of its start-up (the slow on_start).
        assert listening and serving[0] - listening[0] >= SLOW_START_S * 0.8, seen
        proc.send_signal(signal.SIGTERM)
        after: set[str] = set()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and proc.poll() is None:
            after.add(health_status(address, SERVICE, timeout_s=0.5))
            time.sleep(0.05)
        assert "NOT_SERVING" in after, after
        assert proc.wait(timeout=15) == 0, proc.stderr.read().decode()[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
