"""Background processes of the local cluster (MongoDB stand-in, services, gateway): start, record, stop.

Each runs in its own session with its output in <data-dir>/logs/<name>.log; its PID is recorded in
<data-dir>/run/processes.json so `elearn down` stops exactly what `elearn up` started. A supervised one
(`supervised`) is recorded as its supervisor, which restarts it; `worker` finds the process doing the work.
"""
from __future__ import annotations

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from launcher.supervise import read_state, state_file
from shared.channels import open_channel
from shared.settings import TlsSettings


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: list[str]
    port: int
    marker: str  # a string in the command line that proves a PID is still ours


def service_spec(name: str, module: str, port: int) -> ProcessSpec:
    return ProcessSpec(name, [sys.executable, "-m", module], port, module)


def mongo_spec(data_dir: pathlib.Path, log_file: pathlib.Path, port: int) -> ProcessSpec:
    nx = pathlib.Path(sys.executable).parent / "nx-27017"
    argv = [str(nx), "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", str(port),
            "--log-file", str(log_file), "--pid-file", str(data_dir / "nx-27017.pid")]
    return ProcessSpec("mongo", argv, port, "nx-27017")


def supervised(spec: ProcessSpec, run_dir: pathlib.Path) -> ProcessSpec:
    """The same process run under launcher.supervise, which starts it again when it dies; the marker
    stays valid, since the supervisor's command line holds the child's."""
    argv = [sys.executable, "-m", "launcher.supervise", "--name", spec.name,
            "--state", str(state_file(run_dir, spec.name)), "--", *spec.argv]
    return ProcessSpec(spec.name, argv, spec.port, spec.marker)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether no program listens on the port.

    A port that only lingers in TIME_WAIT after our own servers stopped counts as free: a bind probe
    would call it taken for a minute after every `elearn down`.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) != 0


class PortHold:
    """Bound, never listening, sockets on the cluster's free ports while it boots.

    The default ports lie in Linux's ephemeral range, so an outgoing connection made while booting (to a
    primary, say) could take one of them as its source port, and the server meant to listen there would
    fail to bind. Connect never picks a port that a socket was explicitly bound to, and a server binding
    with SO_REUSEADDR (PostgreSQL, gRPC and asyncio all do) shares the port with the hold, so each server
    starts while the holds stay in place.
    """

    def __init__(self, ports, host: str = "127.0.0.1"):
        self._sockets: list[socket.socket] = []
        for port in ports:
            hold = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            hold.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                hold.bind((host, port))
            except OSError:  # a server already listens there, or a connection lingers on it
                hold.close()
                continue
            self._sockets.append(hold)

    def __enter__(self) -> PortHold:
        return self

    def __exit__(self, *_exc) -> None:
        for hold in self._sockets:
            hold.close()


def wait_for_port(port: int, timeout_s: float, host: str = "127.0.0.1") -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex((host, port)) == 0:
                return True
        time.sleep(0.1)
    return False


class ProcessTable:
    """The recorded PIDs of one data folder."""

    def __init__(self, run_dir: pathlib.Path, log_dir: pathlib.Path):
        self.file = run_dir / "processes.json"
        self.log_dir = log_dir
        self._children: dict[str, subprocess.Popen] = {}  # what this process started, to read how it ended
        run_dir.mkdir(parents=True, exist_ok=True)
        log_dir.mkdir(parents=True, exist_ok=True)

    def read(self) -> dict[str, dict]:
        return json.loads(self.file.read_text()) if self.file.exists() else {}

    def _write(self, table: dict[str, dict]) -> None:
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(json.dumps(table, indent=2) + "\n")
        tmp.replace(self.file)

    def alive(self, name: str) -> int | None:
        """The PID of `name` if it is recorded and still the process we started."""
        entry = self.read().get(name)
        if not entry:
            return None
        return entry["pid"] if is_our_process(entry["pid"], entry["marker"]) else None

    def supervision(self, name: str) -> dict:
        """What the supervisor of `name` last recorded (child PID, restarts, state), or {} when unsupervised."""
        return read_state(state_file(self.file.parent, name))

    def worker(self, name: str) -> int | None:
        """The PID doing the work: a supervised process's live child, else the recorded process itself."""
        pid = self.alive(name)
        entry = self.read().get(name, {})
        if pid is None or not entry.get("supervised"):
            return pid
        child = self.supervision(name).get("child")
        return child if child and is_our_process(child, entry["marker"]) and child != pid else None

    def start(self, spec: ProcessSpec, env: dict[str, str]) -> int:
        if "launcher.supervise" in spec.argv:  # a state left by an earlier run names a PID that is not ours now
            state_file(self.file.parent, spec.name).unlink(missing_ok=True)
        log = open(self.log_dir / f"{spec.name}.log", "ab")
        proc = subprocess.Popen(spec.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True, cwd=os.getcwd())
        log.close()
        self._children[spec.name] = proc
        table = self.read()
        table[spec.name] = {"pid": proc.pid, "port": spec.port, "marker": spec.marker, "started": time.time(),
                            "supervised": "launcher.supervise" in spec.argv}
        self._write(table)
        return proc.pid

    def how_it_ended(self, name: str) -> str:
        """How a process this table started ended: its exit code, or the signal that killed it."""
        proc = self._children.get(name)
        code = proc.poll() if proc is not None else None
        if code is None:
            return "not started here, or still running"
        return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"

    def stop(self, name: str, timeout_s: float = 15.0) -> bool:
        pid = self.alive(name)
        table = self.read()
        table.pop(name, None)
        if pid is not None:
            terminate(pid, timeout_s)
        self._write(table)
        return pid is not None

    def stop_all(self, names: list[str], timeout_s: float = 15.0) -> list[str]:
        """Stop several at once (SIGTERM to all, then wait for all); returns the names that were running."""
        pids = {name: self.alive(name) for name in names}
        running = {name: pid for name, pid in pids.items() if pid is not None}
        with ThreadPoolExecutor(max_workers=max(1, len(running))) as pool:
            list(pool.map(lambda pid: terminate(pid, timeout_s), running.values()))
        table = self.read()
        for name in names:
            table.pop(name, None)
        self._write(table)
        return list(running)

    def log_tail(self, name: str, lines: int = 15) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def is_our_process(pid: int, marker: str) -> bool:
    try:
        cmdline = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        status = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return marker in cmdline and status.split(") ", 1)[-1][:1] != "Z"


def terminate(pid: int, timeout_s: float) -> None:
    """SIGTERM (a graceful stop), then SIGKILL after `timeout_s`."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        if _reap(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(pid: int) -> bool:
    """Collect a child that has exited (when the caller started it) so it does not linger as a zombie."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == pid
    except ChildProcessError:
        return not is_our_process(pid, "")


def health_status(address: str, service: str, timeout_s: float = 1.0, tls: TlsSettings | None = None) -> str:
    """SERVING, NOT_SERVING, UNKNOWN, SERVICE_UNKNOWN, or UNREACHABLE (a TLS mismatch reads as unreachable)."""
    with open_channel(address, tls) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout_s)
        except grpc.RpcError as exc:
            return "SERVICE_UNKNOWN" if exc.code() == grpc.StatusCode.NOT_FOUND else "UNREACHABLE"
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


def wait_serving(address: str, service: str, timeout_s: float, alive=lambda: True,
                 tls: TlsSettings | None = None) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if health_status(address, service, tls=tls) == "SERVING":
            return True
        if not alive():
            return False
        time.sleep(0.1)
    return False
