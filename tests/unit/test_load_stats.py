"""loaddriver.stats: nearest-rank percentiles, counts that add up, warm-up left out, invalid kinds."""
from __future__ import annotations

from loaddriver import stats


def call(seq, rpc="CreateUser", kind="valid", code="OK", expected="OK", latency=1.0, warmup=False, shard="eu"):
    outcome = ("success" if code == "OK" else "expected_rejection") if code == expected else "unexpected"
    return {"seq": seq, "worker": seq % 2, "rpc": rpc, "kind": kind, "region": "EUROPE", "shard": shard,
            "start_s": seq * 0.1, "latency_ms": latency, "code": code, "expected": expected, "outcome": outcome,
            "reason": "" if code == "OK" else "INVALID_ARGUMENT", "detail": "", "warmup": warmup}


def test_nearest_rank_percentiles():
    values = [float(v) for v in range(1, 101)]
    assert stats.percentile(values, "50") == 50.0
    assert stats.percentile(values, "99") == 99.0
    assert stats.percentile(values, "99.9") == 100.0
    assert stats.percentile([7.0], "50") == 7.0 and stats.percentile([], "50") is None


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
