"""Where a call's CPU goes: each process's CPU time per call during a measurement, by role (the driving client,
the gateway, the service, PostgreSQL), read from /proc, for `make bench` to print beside the rates.

On a machine whose cores are all busy (the benchmarks' concurrency keeps them so), a path's rate is the cores
divided by its CPU per call. So the account bounds the ratio the floor comparison can reach: with the gateway
costing no more than the empty proxy and the service no more than the empty server, the gateway path still
pays for PostgreSQL's share, which the floor does not have.
"""
from __future__ import annotations

import json
import os
import pathlib
import resource
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from benchmarks.measure import Figures
from launcher.supervise import state_file

CLIENT = "client"  # this process: the benchmark's own driving client


def cpu_s(pid: int) -> float:
    """User and system CPU seconds of process `pid` so far (0 once it is gone)."""
    try:
        # After the command name in parentheses: state is field 0, utime 11 and stime 12.
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def total_cpu_s(pids: Iterable[int]) -> float:
    """User and system CPU seconds of the processes `pids` so far, added up."""
    return sum(map(cpu_s, pids))


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def supervised_pid(run_dir: pathlib.Path, name: str) -> int:
    """The running process of the cluster's supervised `name` (e.g. gateway), from its supervisor's state."""
    return int(json.loads(state_file(run_dir, name).read_text())["child"])


def postgres_pids(pg_root: pathlib.Path) -> list[int]:
    """Every process of the PostgreSQL servers whose data directories are under `pg_root`: each postmaster
    (its command line names its -D) and its children (backends, WAL sender and receiver, startup, ...)."""
    parents: dict[int, int] = {}
    postmasters: list[int] = []
    marker = f"-D {pg_root}/"
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        if marker in command:
            postmasters.append(int(entry.name))
    return postmasters + [pid for pid, parent in parents.items() if parent in postmasters]


@dataclass
class Account:
    """CPU seconds by role over the runs it wraps, and the calls they made. A role's processes are found
    afresh before each run (a backend connects when the pool first needs it)."""

    roles: Mapping[str, Callable[[], Iterable[int]]]
    cpu: dict[str, float] = field(default_factory=dict)
    calls: float = 0.0

    def metered(self, run: Callable[[float], Figures]) -> Callable[[float], Figures]:
        def measured(seconds: float) -> Figures:
            pids = {role: list(find()) for role, find in self.roles.items()}
            before = {role: total_cpu_s(found) for role, found in pids.items()}
            client_before = own_cpu_s()
            figures = run(seconds)
            for role, found in pids.items():
                self.cpu[role] = self.cpu.get(role, 0.0) + total_cpu_s(found) - before[role]
            self.cpu[CLIENT] = self.cpu.get(CLIENT, 0.0) + own_cpu_s() - client_before
            self.calls += figures.all_calls or figures.calls  # the warm-up's calls took CPU too
            return figures

        return measured

    def us_per_call(self) -> dict[str, float]:
        return {role: spent / self.calls * 1e6 if self.calls else 0.0 for role, spent in self.cpu.items()}

    def line(self, label: str, rate: float) -> str:
        """The CPU per call by role, and how many of the machine's cores that keeps busy at `rate` calls/s."""
        per_call = self.us_per_call()
        total = sum(per_call.values())
        parts = " + ".join(f"{role} {us:.0f}" for role, us in per_call.items())
        return (f"{label}: CPU per call (us) {parts} = {total:.0f}; "
                f"{total * rate / 1e6:.2f} of {os.cpu_count()} cores busy")


def floor_bound(path: Account, floor: Account, hops: Iterable[str]) -> float:
    """The highest path/floor rate ratio on busy cores if the path's processes in `hops` (its roles that have a
    floor counterpart: the gateway, the service) and its client cost no more than the floor's: the floor's CPU
    per call over that plus whatever the path spends beyond them (PostgreSQL)."""
    floor_total = sum(floor.us_per_call().values())
    skipped = {*hops, CLIENT}
    beyond = sum(us for role, us in path.us_per_call().items() if role not in skipped)
    return floor_total / (floor_total + beyond) if floor_total + beyond else 0.0
