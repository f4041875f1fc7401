"""Patroni and etcd for the local cluster: where they are installed, how they start, and Patroni's REST API.

Patroni runs from its own venv (`make system-deps` makes it with Debian's /usr/bin/python3 under
/opt/elearn/patroni, a folder the `postgres` user can read: PostgreSQL refuses root, so Patroni, which
starts it, runs as `postgres` too). etcd is Debian's `etcd-server`.
"""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import sys
import urllib.error
import urllib.request

from launcher.processes import ProcessSpec

PATRONI_HOME = pathlib.Path(os.environ.get("ELEARN_PATRONI_HOME", "/opt/elearn/patroni"))


class PatroniError(RuntimeError):
    pass


def patroni_bin() -> pathlib.Path:
    path = PATRONI_HOME / "bin" / "patroni"
    if not path.exists():
        raise PatroniError(f"Patroni is not installed ({path} is missing); run `make system-deps`")
    return path


def etcd_bin() -> str:
    found = shutil.which("etcd") or ("/usr/bin/etcd" if pathlib.Path("/usr/bin/etcd").exists() else None)
    if not found:
        raise PatroniError("etcd is not installed (Debian package etcd-server); run `make system-deps`")
    return found


def etcd_spec(data: pathlib.Path, client_port: int, peer_port: int) -> ProcessSpec:
    """One etcd member on loopback: Patroni's store of leader keys and shard configuration."""
    client, peer = f"http://127.0.0.1:{client_port}", f"http://127.0.0.1:{peer_port}"
    argv = [etcd_bin(), "--name", "elearn", "--data-dir", str(data),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"elearn={peer}", "--initial-cluster-state", "new",
            "--log-level", "warn", "--logger", "zap"]
    return ProcessSpec("etcd", argv, client_port, f"--data-dir {data}")


def _as_postgres(command: list[str]) -> list[str]:
    """setpriv execs in place (no fork, so the keeper's child PID is Patroni's own)."""
    if os.geteuid() != 0:
        return command
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--reset-env", "--", *command]


def keeper_spec(name: str, member: str, config: pathlib.Path, data: pathlib.Path, rest_port: int, peer_rest: list[int],
                node_down_s: float) -> ProcessSpec:
    peers = [arg for port in peer_rest for arg in ("--peer-rest", str(port))]
    argv = [sys.executable, "-m", "launcher.keeper", "--member", member, "--data", str(data), *peers,
            "--node-down-s", f"{node_down_s:g}", "--", *_as_postgres([str(patroni_bin()), str(config)])]
    return ProcessSpec(name, argv, rest_port, f"launcher.keeper --member {member} --data {data}")


# ---- the REST API --------------------------------------------------------------------------------------
def _call(where: int | str, path: str, method: str = "GET", body: dict | None = None,
          timeout_s: float = 2.0) -> tuple[int, object]:
    """One REST call to a member at `where`: a local port, or "host:port"."""
    address = f"127.0.0.1:{where}" if isinstance(where, int) else where
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://{address}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as reply:
            status, raw = reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace").strip()


def _first_answer(rest_ports: list[int | str], path: str, timeout_s: float) -> dict | None:
    """GET `path` from the first member whose REST API answers it with a JSON object, or None."""
    for port in rest_ports:
        try:
            status, body = _call(port, path, timeout_s=timeout_s)
        except OSError:
            continue
        if status == 200 and isinstance(body, dict):
            return body
    return None


def sees_pause(rest_port: int | str, on: bool) -> bool:
    """Whether the member at `rest_port` runs in maintenance mode (`on`) or out of it: its own loop's view
    (GET /patroni), which lags the shard's configuration by up to one loop."""
    try:
        status, body = _call(rest_port, "/patroni", timeout_s=1.0)
    except OSError:
        return False
    return isinstance(body, dict) and bool(body.get("pause", False)) is on


def cluster_view(rest_ports: list[int | str]) -> dict | None:
    """Patroni's view of one shard (GET /cluster) from the first member that answers, or None."""
    return _first_answer(rest_ports, "/cluster", timeout_s=1.0)


def shard_config(rest_ports: list[int | str]) -> dict:
    """The shard's dynamic configuration in etcd (GET /config), or {} when no member answers."""
    return _first_answer(rest_ports, "/config", timeout_s=2.0) or {}


def leader(view: dict | None) -> dict | None:
    """The member that holds the leader key and runs, or None."""
    for member in (view or {}).get("members", []):
        if member.get("role") == "leader" and member.get("state") == "running":
            return member
    return None


def sync_standby(view: dict | None) -> dict | None:
    for member in (view or {}).get("members", []):
        if member.get("role") == "sync_standby" and member.get("state") == "streaming":
            return member
    return None


def request(rest_ports: list[int], path: str, body: dict, method: str = "POST") -> str:
    """A state-changing call (switchover, failover, config) to the first member that answers; its reply."""
    last = "no member of the shard answers"
    for port in rest_ports:
        try:
            status, reply = _call(port, path, method, body, timeout_s=30.0)
        except OSError as exc:
            last = str(exc)
            continue
        text = reply if isinstance(reply, str) else json.dumps(reply)
        if status >= 400:
            raise PatroniError(f"Patroni refused {path.strip('/')}: {text}")
        return text
    raise PatroniError(f"Patroni {path.strip('/')}: {last}")
