"""loaddriver.timeline: per-second slots while the run is short, merged pairwise into wider ones past
max_slots, so a run of any length keeps a bounded number of slots and every call stays counted."""
from __future__ import annotations

import random

import pytest

from loaddriver.histogram import LatencyHistogram
from loaddriver.timeline import MERGE_BITS, Timeline


def test_a_short_run_has_one_slot_a_second_empty_seconds_kept():
    timeline = Timeline(max_slots=8)
    timeline.add(2.5, True, 4.0, None)
    timeline.add(2.9, False, 9.0, None)
    timeline.add(4.1, True, 6.0, 7.5)
    rows = timeline.rows()
    assert [(r["t"], r["seconds"], r["ok"], r["not_ok"]) for r in rows] == [(2, 1, 1, 1), (3, 1, 0, 0), (4, 1, 1, 0)]
    assert rows[0]["p50"] == rows[0]["p99"] == 4.0 and rows[0]["p99_from_schedule"] is None
    assert rows[1]["p50"] is None
    assert rows[2]["p99_from_schedule"] == 7.5


@pytest.mark.parametrize("max_slots", [2, 3, 16, 1024])
def test_a_long_run_keeps_at_most_max_slots_and_counts_every_call(max_slots):
    rng = random.Random(max_slots)
    timeline = Timeline(max_slots=max_slots)
    seconds = 7 * max_slots + 5
    calls = [(rng.uniform(0, seconds), rng.random() < 0.9, rng.uniform(0.5, 50.0)) for _ in range(20_000)]
    for t, ok, latency in calls:
        timeline.add(t, ok, latency, latency + 1)
        assert len(timeline.slots) <= max_slots
    rows = timeline.rows()
    assert max_slots // 2 <= len(rows) <= max_slots  # merged only when needed: at least half the slots used
    width = rows[0]["seconds"]
    assert width & (width - 1) == 0 and width > 1
    assert all(r["seconds"] == width and r["t"] % width == 0 for r in rows)
    assert [b["t"] - a["t"] for a, b in zip(rows, rows[1:], strict=False)] == [width] * (len(rows) - 1)
    assert sum(r["ok"] for r in rows) == sum(ok for _t, ok, _l in calls)
    assert sum(r["not_ok"] for r in rows) == sum(not ok for _t, ok, _l in calls)
    for row in rows:  # each slot holds exactly the calls of its span
        inside = sorted(latency for t, ok, latency in calls if ok and row["t"] <= int(t) < row["t"] + width)
        assert row["ok"] == len(inside)
        if inside:
            assert abs(row["p99"] - inside[-((len(inside) - 1) // 100) - 1]) <= inside[-1] * 0.07


def test_a_run_that_starts_late_uses_its_slots_from_its_first_call():
    timeline = Timeline(max_slots=4)
    for t in (100.0, 101.0, 102.0, 103.0):
        timeline.add(t, True, 1.0, None)
    assert [r["t"] for r in timeline.rows()] == [100, 101, 102, 103]  # 4 seconds fit 4 slots: no merge
    timeline.add(104.0, True, 1.0, None)
    assert [(r["t"], r["seconds"], r["ok"]) for r in timeline.rows()] == [(100, 2, 2), (102, 2, 2), (104, 2, 1)]


def test_merged_histograms_equal_one_histogram_of_all_the_values():
    rng = random.Random(5)
    values = [rng.lognormvariate(1, 1.2) for _ in range(3_000)]
    whole, first, second = (LatencyHistogram(MERGE_BITS) for _ in range(3))
    for n, value in enumerate(values):
        whole.record(value)
        (first if n % 3 else second).record(value)
    first.merge(second)
    first.merge(LatencyHistogram(MERGE_BITS))  # an empty one changes nothing
    assert (first.count, first.min_ms, first.max_ms, first.counts) == (whole.count, whole.min_ms, whole.max_ms,
                                                                       whole.counts)
    assert first.total_ms == pytest.approx(whole.total_ms)
    assert first.percentiles(("50", "99", "99.9")) == whole.percentiles(("50", "99", "99.9"))
    with pytest.raises(ValueError):
        first.merge(LatencyHistogram(0))
