"""Start extra service and gateway processes beside the session cluster, for failure tests."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

from launcher.processes import wait_serving
from shared.settings import read_topology, tls_settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """A `python -m <module>` server on a fixed port, restartable on that same port."""

    def __init__(self, module: str, port: int, env: dict[str, str], health_name: str = ""):
        self.module, self.port, self.env, self.health_name = module, port, env, health_name
        self.proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        env = {**os.environ, **self.env, "ELEARN_LISTEN": self.address, "ELEARN_DRAIN_S": "0"}
        self.proc = subprocess.Popen([sys.executable, "-m", self.module], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        if not wait_serving(self.address, self.health_name, 30, alive=lambda: self.proc.poll() is None,
                            tls=tls_settings("client", read_topology(env), env)):
            raise RuntimeError(f"{self.module} did not start on {self.address}")
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def topology_with_routes(cluster, routes: dict) -> dict[str, str]:
    """The session cluster's topology with a gateway routing table, as process environment."""
    topology = json.loads(cluster.layout.topology_file.read_text())
    topology["routes"] = routes
    return {"ELEARN_TOPOLOGY": json.dumps(topology), "ELEARN_AUTH_DIR": str(cluster.layout.auth_dir)}
