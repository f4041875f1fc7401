"""The benchmark's CPU account: it finds a PostgreSQL server's processes by the data directory its postmaster
names, charges each role the CPU its processes spent during a run, per call, and bounds the floor ratio."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from benchmarks import cpu_account
from benchmarks.measure import Figures

# A stand-in postmaster: its command line names `-D <dir>`, and it starts one child (a "backend").
POSTMASTER = ("import subprocess, sys, time\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
              "print(child.pid, flush=True)\n"
              "time.sleep(60)\n")
SPIN = "import time\nwhile True: pass\n"


@pytest.fixture
def postmaster(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", POSTMASTER, "-D", f"{tmp_path}/pg/eu-a"],
                               stdout=subprocess.PIPE, text=True)
    child = int(process.stdout.readline())
    yield process.pid, child
    os.kill(child, 9)
    process.kill()
    process.wait()


def test_postgres_pids_are_the_postmasters_under_the_root_and_their_children(tmp_path, postmaster):
    found = cpu_account.postgres_pids(tmp_path / "pg")
    assert sorted(found) == sorted(postmaster)
    assert cpu_account.postgres_pids(tmp_path / "other") == []


def test_a_role_is_charged_the_cpu_its_processes_spent_during_the_run_per_call():
    spinner = subprocess.Popen([sys.executable, "-c", SPIN])
    try:
        account = cpu_account.Account({"busy": lambda: [spinner.pid], "gone": lambda: [2 ** 22 + 12345]})

        def run(seconds: float) -> Figures:
            time.sleep(seconds)
            return Figures.of("run", 1, [1.0] * 100, 0, seconds)

        account.metered(run)(1.0)
        account.metered(run)(1.0)
        per_call = account.us_per_call()
        # Two runs of a second each, 200 calls: the spinner (one core when it has one) about 10,000 us a call.
        assert 3_000 < per_call["busy"] <= 10_600
        assert per_call["gone"] == 0.0
        assert per_call[cpu_account.CLIENT] < 1_000  # this process slept
        assert account.calls == 200
        assert "busy" in account.line("spin", 100.0)
    finally:
        spinner.kill()
        spinner.wait()


def test_the_floor_bound_leaves_only_what_the_path_spends_beyond_the_floors_hops():
    path = cpu_account.Account({}, cpu={"gateway": 0.8, "enrollments": 0.9, "postgres": 0.6, "client": 0.3},
                               calls=1000)
    floor = cpu_account.Account({}, cpu={"proxy": 0.5, "server": 0.3, "client": 0.2}, calls=1000)
    # The floor's 1,000 us a call against 1,000 + PostgreSQL's 600.
    assert cpu_account.floor_bound(path, floor, ("gateway", "enrollments")) == pytest.approx(
        1000 / 1600)
