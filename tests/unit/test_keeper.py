"""launcher.keeper with a real child process: a child that dies is started again (at once when the node's
postmaster still runs, after the node-down delay otherwise), and SIGTERM stops the child, then the keeper."""
from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest


def keeper(tmp_path: pathlib.Path, node_down_s: float) -> tuple[subprocess.Popen, pathlib.Path]:
    pids = tmp_path / "pids"
    child = f"echo $$ >> {pids}; exec sleep 600"
    proc = subprocess.Popen([sys.executable, "-m", "launcher.keeper", "--member", "eu_a", "--data",
                             str(tmp_path / "data"), "--node-down-s", str(node_down_s), "--", "sh", "-c", child],
                            stdout=subprocess.DEVNULL)
    return proc, pids


def children(pids: pathlib.Path, count: int, timeout_s: float) -> list[int]:
    give_up = time.monotonic() + timeout_s
    while time.monotonic() < give_up:
        found = [int(line) for line in pids.read_text().split()] if pids.exists() else []
        if len(found) >= count:
            return found
        time.sleep(0.05)
    return [int(line) for line in pids.read_text().split()] if pids.exists() else []


@pytest.mark.slow
def test_a_dead_node_comes_back_after_the_delay_and_sigterm_stops_everything(tmp_path):
    proc, pids = keeper(tmp_path, node_down_s=1.5)
    try:
        first = children(pids, 1, 10)[0]
        killed = time.monotonic()
        os.kill(first, signal.SIGKILL)
        found = children(pids, 2, 10)
        assert len(found) == 2, "the keeper did not start the child again"
        assert time.monotonic() - killed >= 1.5  # no postmaster runs: the node died whole, so it waits
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        with pytest.raises(ProcessLookupError):
            for _ in range(50):
                os.kill(found[1], 0)
                time.sleep(0.1)
    finally:
        proc.kill()
