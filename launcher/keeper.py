"""Keeps one node's Patroni running, as systemd or a container's restart policy would on a real host.

`python -m launcher.keeper --member eu_a --data DIR --peer-rest 54431 --node-down-s S -- COMMAND...` runs
COMMAND and starts it again whenever it exits. When Patroni died alone (its PostgreSQL still runs), it comes
back after a second and takes its node up again where it was. When the whole node died (Patroni and its
postmaster), it comes back like a host that reboots: once the shard has another leader (at once for a
replica; after the failover for a dead leader), or after `--node-down-s` at most, so it finds the shard
failed over and rejoins as a replica (Patroni rewinds or re-clones it) instead of crash-recovering in place
under a leader key nobody refreshed. SIGTERM stops Patroni (which stops PostgreSQL), then the keeper.
"""
from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys
import time

from launcher.patroni import cluster_view, leader
from launcher.postgres import postmaster_pid
from launcher.supervise import ChildKeeper

STOP_TIMEOUT_S = 60


class Keeper(ChildKeeper):
    def __init__(self, command: list[str], member: str, data: pathlib.Path, peers: list[int], node_down_s: float):
        super().__init__(command)
        self.member, self.data = member, data
        self.peers, self.node_down_s = peers, node_down_s

    def run(self) -> int:
        self.stop_on_signals()
        while not self.stopping:
            self.child = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, cwd="/")
            code = self.child.wait()
            if self.stopping:
                break
            time.sleep(0.5)  # a host that dies takes its postmaster too: let that death land before judging
            node_alive = postmaster_pid(self.data) is not None
            print(f"elearn keeper: patroni exited ({code}), "
                  f"{'its PostgreSQL runs' if node_alive else 'the node is down'}; starting it again", flush=True)
            self._sleep(1.0 if node_alive else self.node_down_s, until=None if node_alive else self._led_by_other)
        if self.child is not None:
            try:
                self.child.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.child.kill()
        return 0

    def _led_by_other(self) -> bool:
        holder = leader(cluster_view(self.peers))
        return holder is not None and holder.get("name") != self.member

    def _sleep(self, seconds: float, until=None) -> None:
        give_up = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < give_up:
            if until is not None and until():
                return
            time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m launcher.keeper")
    parser.add_argument("--member", required=True, help="the Patroni member's name (for ps and logs)")
    parser.add_argument("--data", required=True, type=pathlib.Path, help="the node's PostgreSQL data folder")
    parser.add_argument("--peer-rest", type=int, action="append", default=[],
                        help="the REST port of another member of the shard")
    parser.add_argument("--node-down-s", type=float, required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    return Keeper(command, args.member, args.data, args.peer_rest, args.node_down_s).run()


if __name__ == "__main__":
    sys.exit(main())
