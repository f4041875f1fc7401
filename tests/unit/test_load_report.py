"""loaddriver.report: a run with no calls, or with no OK call, in a --rps run or not, still makes a report."""
from __future__ import annotations

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
