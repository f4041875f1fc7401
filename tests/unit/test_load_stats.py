"""loaddriver.stats: counts that add up, warm-up left out, invalid kinds, a summary whose size does not grow
with the calls, and warnings where a percentile rests on too few samples."""
from __future__ import annotations

import json

from loaddriver import stats
from loaddriver.timeline import MAX_SLOTS


def call(seq, rpc="CreateUser", kind="valid", code="OK", expected="OK", latency=1.0, warmup=False, shard="eu"):
    outcome = ("success" if code == "OK" else "expected_rejection") if code == expected else "unexpected"
    return {"seq": seq, "worker": seq % 2, "rpc": rpc, "kind": kind, "region": "EUROPE", "shard": shard,
            "start_s": seq * 0.1, "latency_ms": latency, "code": code, "expected": expected, "outcome": outcome,
            "reason": "" if code == "OK" else "INVALID_ARGUMENT", "detail": "", "warmup": warmup}


def test_nearest_rank_percentiles():
    calls = [call(i, latency=i / 1000) for i in range(1, 101)]  # below 256 µs the histogram is exact
    latency = stats.summarize(calls, {"duration_s": 1.0, "options": {}})["latency"]["ok"]
    assert (latency["p50"], latency["p99"], latency["p99.9"]) == (0.05, 0.099, 0.1)
    assert (latency["count"], latency["min"], latency["max"]) == (100, 0.001, 0.1)


def test_counts_add_up_and_warmup_is_left_out():
    calls = [call(i, latency=float(i)) for i in range(1, 9)]
    calls.append(call(9, kind="blank_name", code="INVALID_ARGUMENT", expected="INVALID_ARGUMENT"))
    calls.append(call(10, kind="negative_price", rpc="CreateCourse", code="OK", expected="INVALID_ARGUMENT"))
    calls.append(call(11, code="UNAVAILABLE"))
    calls.append(call(0, latency=999.0, warmup=True))
    summary = stats.summarize(calls, {"duration_s": 2.0, "options": {}})
    totals = summary["totals"]
    assert (totals["calls"], totals["successes"], totals["expected_rejections"], totals["unexpected"]) == (11, 8, 1, 2)
    assert totals["successes"] + totals["expected_rejections"] + totals["unexpected"] == totals["calls"]
    assert totals["warmup_calls"] == 1
    assert summary["throughput"] == 5.5
    assert summary["latency"]["ok"]["max"] == 8.0  # the 999 ms warm-up call is not counted
    assert {c["seq"] for c in summary["unexpected"]} == {10, 11}


def test_every_invalid_kind_reports_what_came_back():
    calls = [call(1, kind="blank_name", code="INVALID_ARGUMENT", expected="INVALID_ARGUMENT"),
             call(2, kind="duplicate_email", code="ALREADY_EXISTS", expected="ALREADY_EXISTS"),
             call(3, kind="duplicate_email", code="OK", expected="ALREADY_EXISTS")]
    kinds = stats.summarize(calls, {"duration_s": 1.0, "options": {}})["invalid_kinds"]
    assert set(kinds) == {"blank_name", "duplicate_email"} and set(kinds) <= set(stats.INVALID_KINDS)
    assert kinds["duplicate_email"]["expected"] == "ALREADY_EXISTS"
    assert kinds["duplicate_email"]["expected_rejections"] == 1


def test_the_summary_holds_no_call_list_and_does_not_grow_with_the_calls():
    def summary_size(n):
        calls = [call(i, rpc=f"Rpc{i % 7}", latency=1 + (i * 7919) % 500 / 10) for i in range(n)]
        unexpected = stats.MAX_UNEXPECTED_KEPT + n // 10  # more than the JSON lists, in both runs
        calls += [call(n + i, code="UNAVAILABLE") for i in range(unexpected)]
        for c in calls:
            c["start_s"] = (c["seq"] % 50) / 10  # the same 5 seconds, so only the number of calls changes
        summary = stats.summarize(calls, {"duration_s": 5.0, "options": {}})
        assert summary["totals"]["calls"] == n + unexpected
        return len(json.dumps(summary))

    small, large = summary_size(2_000), summary_size(40_000)
    assert large < small * 1.1, (small, large)


def test_a_percentile_from_too_few_samples_is_marked_and_warned_about():
    few = stats.summarize([call(i, latency=float(i)) for i in range(600)], {"duration_s": 1.0, "options": {}})
    assert few["latency"]["ok"]["thin"] == ["p99.9"]
    assert any(w.startswith("p99.9 of OK calls rests on 600 samples (fewer than 1,000)") for w in few["warnings"])
    enough = stats.summarize([call(i, latency=float(i)) for i in range(1000)], {"duration_s": 1.0, "options": {}})
    assert enough["latency"]["ok"]["thin"] == [] and not enough["warnings"]


def test_the_timeline_of_a_long_run_is_bounded_and_counts_every_call():
    calls = [call(i) | {"start_s": i * 0.5} for i in range(12_000)]  # 6,000 seconds, two calls a second
    timeline = stats.summarize(calls, {"duration_s": 6_000.0, "options": {}})["timeline"]
    assert len(timeline) <= MAX_SLOTS and timeline[0]["seconds"] == 8
    assert sum(row["ok"] for row in timeline) == 12_000
    assert all(row["ok"] == 16 for row in timeline[:-1])  # 8 s of two calls a second per slot
