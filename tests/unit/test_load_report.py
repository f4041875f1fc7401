"""loaddriver.report: a run with no calls, or with no OK call, in a --rps run or not, still makes a report."""
from __future__ import annotations

import subprocess

import pytest

from loaddriver import stats
from loaddriver.report import write_pdf
from tests.unit.test_load_stats import call

RUNS = {"no calls": [], "no OK call": [call(i, code="UNAVAILABLE") | {"scheduled_latency_ms": 5.0} for i in range(5)]}


@pytest.mark.parametrize("options", [{}, {"rps": 100}], ids=["closed loop", "rps"])
@pytest.mark.parametrize("calls", RUNS.values(), ids=RUNS.keys())
def test_a_run_without_ok_calls_still_makes_a_report(calls, options, tmp_path):
    run = {"name": "edge", "options": options, "duration_s": 1.0, "driver": {"cpu_s": 0.1, "calls": 5, "wall_s": 1}}
    summary = stats.summarize(calls, run)
    assert not summary["verdict"]["passed"]
    assert (summary["rate"] is not None) == bool(options)
    path = write_pdf(tmp_path / "report.pdf", run, summary)
    assert path.read_bytes().startswith(b"%PDF") and path.stat().st_size > 5_000


def test_a_long_run_charts_its_wider_slots_as_calls_a_second(tmp_path):
    calls = [call(i) | {"start_s": i * 0.5} for i in range(4_400)]  # 2,200 s, two calls a second: 4 s slots
    run = {"name": "long", "options": {}, "duration_s": 2_200.0}
    summary = stats.summarize(calls, run)
    assert {row["seconds"] for row in summary["timeline"]} == {4}
    path = write_pdf(tmp_path / "report.pdf", run, summary)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Calls completed in each 4 seconds (as calls a second)" in text
    assert "Each point: the calls completed in 4 seconds" in text
