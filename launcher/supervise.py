"""Keeps one long-running process of the local cluster (a service, the gateway, MongoDB) running.

`python -m launcher.supervise --name users --state FILE -- COMMAND...` runs COMMAND and starts it again
when it dies (a signal or a non-zero exit), after an exponential backoff capped at BACKOFF_CAP_S. A child
that exits 0 stopped on purpose and is left down. After CRASH_LOOP_LIMIT deaths in a row, each within
STABLE_S of its start, the supervisor logs that it gives up and exits 1, so a broken build is reported by
`elearn up`/`status` instead of restarting forever. SIGTERM stops the child (gracefully, then SIGKILL
after STOP_TIMEOUT_S), then the supervisor: `elearn down` stops supervisors, never their children, so
nothing comes back during a deliberate stop. FILE holds the child's PID and the restart count.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import pathlib
import signal
import subprocess
import sys
import time

BACKOFF_FIRST_S = 0.25
BACKOFF_CAP_S = 4.0
STABLE_S = 10.0  # a child that ran this long was healthy: its death starts a fresh backoff
CRASH_LOOP_LIMIT = 5
STOP_TIMEOUT_S = 12.0  # under ProcessTable.stop's 15 s, so the supervisor is never SIGKILLed before its child
_PR_SET_PDEATHSIG = 1


def backoff_s(failures: int) -> float:
    """The wait before the restart that follows `failures` quick deaths in a row (1, 2, ...)."""
    return min(BACKOFF_CAP_S, BACKOFF_FIRST_S * 2 ** (failures - 1))


def state_file(run_dir: pathlib.Path, name: str) -> pathlib.Path:
    return run_dir / f"{name}.supervisor.json"


def read_state(path: pathlib.Path) -> dict:
    """{"child": PID or None, "restarts": N, "state": running | backoff | gave-up | stopped}, or {}."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _die_with_parent() -> None:
    # If the supervisor itself is SIGKILLed, its child must not run on unsupervised and unrecorded.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ChildKeeper:
    """What every loop that keeps a child running shares: the child, and a stop on SIGTERM/SIGINT that passes
    SIGTERM on to it and ends the loop. Subclasses decide when and how to start the child again."""

    def __init__(self, command: list[str]):
        self.command = command
        self.child: subprocess.Popen | None = None
        self.stopping = False

    def stop(self, *_signal) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)

    def stop_on_signals(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)


class Supervisor(ChildKeeper):
    def __init__(self, name: str, command: list[str], state: pathlib.Path):
        super().__init__(command)
        self.name, self.state = name, state
        self.restarts = 0

    def run(self) -> int:
        self.stop_on_signals()
        failures = 0
        while not self.stopping:
            started = time.monotonic()
            self.child = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
            if self.stopping:  # SIGTERM landed while the child was being created
                self.child.send_signal(signal.SIGTERM)
            self._record("running")
            code = self.child.wait()
            if self.stopping:
                break
            if code == 0:
                self._log("exited", exit=0, action="left down (it stopped on purpose)")
                self._record("stopped")
                return 0
            failures = 1 if time.monotonic() - started >= STABLE_S else failures + 1
            if failures > CRASH_LOOP_LIMIT:
                self._log("gave_up", exit=code, deaths_in_a_row=failures - 1,
                          action=f"not restarting: it died {failures - 1} times within {STABLE_S:.0f} s of starting;"
                                 " see the lines above, fix it, then run `elearn up` again")
                self._record("gave-up")
                return 1
            delay = backoff_s(failures)
            self._log("restarting", exit=code, delay_s=delay, restarts=self.restarts + 1)
            self._record("backoff")
            self._sleep(delay)
            if not self.stopping:
                self.restarts += 1
        self._stop_child()
        self._record("stopped")
        return 0

    def _stop_child(self) -> None:
        try:
            self.child.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()

    def _sleep(self, seconds: float) -> None:
        give_up = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < give_up:
            time.sleep(max(0.0, min(0.05, give_up - time.monotonic())))

    def _record(self, state: str) -> None:
        pid = self.child.pid if state == "running" else None
        tmp = self.state.with_suffix(".tmp")
        tmp.write_text(json.dumps({"child": pid, "restarts": self.restarts, "state": state}) + "\n")
        tmp.replace(self.state)

    def _log(self, event: str, **fields) -> None:
        print(json.dumps({"ts": round(time.time(), 3), "logger": "supervise", "process": self.name,
                          "event": event, **fields}), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m launcher.supervise")
    parser.add_argument("--name", required=True, help="the process's name in the cluster (for ps and logs)")
    parser.add_argument("--state", required=True, type=pathlib.Path, help="where to record the child's PID")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a command to run is required after --")
    return Supervisor(args.name, command, args.state).run()


if __name__ == "__main__":
    sys.exit(main())
