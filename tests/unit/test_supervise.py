"""launcher.supervise with real child processes: a killed child comes back after a short backoff, a crash
loop ends in a clear give-up, a clean exit is left down, and SIGTERM stops the child and never restarts it."""
from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from launcher.supervise import BACKOFF_CAP_S, CRASH_LOOP_LIMIT, backoff_s, read_state


def supervise(tmp_path: pathlib.Path, child: str) -> tuple[subprocess.Popen, pathlib.Path, pathlib.Path]:
    """A supervisor of `sh -c child`; each start of the child appends its PID to the returned file."""
    pids, state = tmp_path / "pids", tmp_path / "state.json"
    with open(tmp_path / "log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "launcher.supervise", "--name", "toy", "--state", str(state),
                                 "--", "sh", "-c", f"echo $$ >> {pids}; {child}"], stdout=log)
    return proc, pids, state


def children(pids: pathlib.Path, count: int, timeout_s: float) -> list[int]:
    give_up = time.monotonic() + timeout_s
    while time.monotonic() < give_up and len(started(pids)) < count:
        time.sleep(0.02)
    return started(pids)


def started(pids: pathlib.Path) -> list[int]:
    return [int(line) for line in pids.read_text().split()] if pids.exists() else []


def gone(pid: int, timeout_s: float = 5.0) -> bool:
    give_up = time.monotonic() + timeout_s
    while time.monotonic() < give_up:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)


def test_backoff_doubles_from_a_quarter_second_and_is_capped():
    assert [backoff_s(n) for n in range(1, 7)] == [0.25, 0.5, 1.0, 2.0, 4.0, BACKOFF_CAP_S]


def test_a_killed_child_comes_back_quickly_and_the_state_file_follows_it(tmp_path):
    proc, pids, state = supervise(tmp_path, "exec sleep 600")
    try:
        first = children(pids, 1, 10)[0]
        for round_ in range(1, 4):  # several deaths: each is restarted, the count follows
            killed = time.monotonic()
            os.kill(children(pids, round_, 10)[-1], signal.SIGKILL)
            again = children(pids, round_ + 1, 10)
            assert len(again) == round_ + 1, "the supervisor did not start the child again"
            assert time.monotonic() - killed < 5
        give_up = time.monotonic() + 5
        while read_state(state).get("child") != again[-1] and time.monotonic() < give_up:
            time.sleep(0.02)
        assert read_state(state) == {"child": again[-1], "restarts": 3, "state": "running"}
        assert first not in again[1:]
    finally:
        stop(proc)


def test_sigterm_stops_the_child_and_nothing_comes_back(tmp_path):
    proc, pids, state = supervise(tmp_path, "exec sleep 600")
    try:
        child = children(pids, 1, 10)[0]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert gone(child)
        time.sleep(1.0)  # longer than the first backoffs: a restart would have happened by now
        assert started(pids) == [child]
        assert read_state(state)["state"] == "stopped"
    finally:
        stop(proc)


def test_a_child_that_exits_zero_is_left_down(tmp_path):
    proc, pids, state = supervise(tmp_path, "exit 0")
    try:
        assert proc.wait(10) == 0
        assert len(started(pids)) == 1
        assert read_state(state) == {"child": None, "restarts": 0, "state": "stopped"}
    finally:
        stop(proc)


@pytest.mark.slow
def test_a_crash_loop_gives_up_and_says_why(tmp_path):
    proc, pids, state = supervise(tmp_path, "exit 3")
    try:
        assert proc.wait(30) == 1
        assert len(started(pids)) == CRASH_LOOP_LIMIT + 1
        assert read_state(state)["state"] == "gave-up"
        events = [json.loads(line) for line in (tmp_path / "log").read_text().splitlines()]
        assert [e["event"] for e in events] == ["restarting"] * CRASH_LOOP_LIMIT + ["gave_up"]
        assert [e["delay_s"] for e in events[:-1]] == [backoff_s(n) for n in range(1, CRASH_LOOP_LIMIT + 1)]
        assert events[-1]["exit"] == 3 and "not restarting" in events[-1]["action"]
    finally:
        stop(proc)


def test_a_killed_supervisor_takes_its_child_with_it(tmp_path):
    proc, pids, _state = supervise(tmp_path, "exec sleep 600")
    try:
        child = children(pids, 1, 10)[0]
        proc.kill()
        proc.wait(5)
        assert gone(child), "the child outlived its supervisor, unsupervised"
    finally:
        stop(proc)
