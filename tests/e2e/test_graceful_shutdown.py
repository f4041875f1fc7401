"""On SIGTERM a service first reports NOT_SERVING over grpc.health.v1, then drains and exits cleanly."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from launcher.processes import health_status, port_is_free, wait_serving

USERS = "elearning.users.v1.UserService"


def free_port() -> int:
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_health_goes_not_serving_before_the_process_exits(cluster):
    port = free_port()
    env = {**os.environ, **cluster.env, "ELEARN_LISTEN": f"127.0.0.1:{port}", "ELEARN_DRAIN_S": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "services.users.main"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        address = f"127.0.0.1:{port}"
        assert wait_serving(address, USERS, 30, tls=cluster.tls), "the service never became SERVING"
        proc.send_signal(signal.SIGTERM)
        seen = set()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and proc.poll() is None:
            seen.add(health_status(address, USERS, timeout_s=0.5, tls=cluster.tls))
            time.sleep(0.05)
        if "NOT_SERVING" not in seen:  # say what the process did: its exit status and its last log lines
            if proc.poll() is None:
                proc.kill()
            _out, err = proc.communicate(timeout=15)
            raise AssertionError(f"{seen}; exit status {proc.returncode}; log: {err.decode()[-2000:]}")
        assert proc.wait(timeout=15) == 0
        assert port_is_free(port)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
