"""The statistics of a load run: pure functions from the per-call records to one JSON-ready summary.

Percentiles are nearest-rank: for n sorted latencies and 0 < p <= 100, the p-th percentile is the value
at 1-based rank ceil(p/100 * n), computed exactly (p as a decimal fraction, no float rounding), so it is
always a latency that was measured. Warm-up calls are left out of every figure here.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from fractions import Fraction

from loaddriver.invalid import KINDS
from loaddriver.served_by import served_by

PERCENTILES = (("p50", "50"), ("p90", "90"), ("p95", "95"), ("p99", "99"), ("p99.9", "99.9"))
INVALID_KINDS = tuple(KINDS)  # every kind the driver can send, so the report names those that never ran
# Six log-spaced histogram edges per decade (1, 1.5, 2, 3, 5, 7 x 10^k ms), from 0.1 ms to 70 s.
HISTOGRAM_EDGES_MS = tuple(round(m * 10.0 ** e, 6) for e in range(-1, 5) for m in (1, 1.5, 2, 3, 5, 7))
NO_VALUE = "(none)"
_NOT_NEW_ROWS = ("Update", "Get", "List", "Delete")


def percentile(sorted_values: list[float], p: str | float) -> float | None:
    """The nearest-rank p-th percentile of already sorted values; None when there are none."""
    if not sorted_values:
        return None
    rank = math.ceil(Fraction(str(p)) * len(sorted_values) / 100)
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


def latency_stats(latencies: list[float]) -> dict:
    """count, min, max, mean and the percentiles of PERCENTILES, in ms (None when there are no values)."""
    values = sorted(latencies)
    stats = {"count": len(values), "min": values[0] if values else None, "max": values[-1] if values else None,
             "mean": sum(values) / len(values) if values else None}
    stats.update((name, percentile(values, p)) for name, p in PERCENTILES)
    return stats


def writes_new_row(rpc: str) -> bool:
    """Whether a successful call of `rpc` adds a row (a create, enrolment, progress record or payment)."""
    return not rpc.startswith(_NOT_NEW_ROWS)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _outcomes(calls: list[dict]) -> dict:
    counts = Counter(c["outcome"] for c in calls)
    return {"calls": len(calls), "successes": counts["success"],
            "expected_rejections": counts["expected_rejection"], "unexpected": counts["unexpected"]}


def _group(calls: list[dict], key) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for call in calls:
        groups[key(call)].append(call)
    return groups


def _placement(calls: list[dict], field: str) -> dict:
    """Calls, OK calls and new rows per value of `field` (region or shard), most calls first."""
    rows = {}
    for value, group in sorted(_group(calls, lambda c: c[field] or NO_VALUE).items(), key=lambda kv: -len(kv[1])):
        ok = [c for c in group if c["code"] == "OK"]
        rows[value] = {"calls": len(group), "ok": len(ok), "not_ok": len(group) - len(ok),
                       "rows": sum(1 for c in ok if writes_new_row(c["rpc"]))}
    return rows


def _per_rpc(calls: list[dict]) -> dict:
    result = {}
    for rpc, group in sorted(_group(calls, lambda c: c["rpc"]).items()):
        result[rpc] = _outcomes(group) | {
            "latency_ok": latency_stats([c["latency_ms"] for c in group if c["code"] == "OK"]),
            "latency_all": latency_stats([c["latency_ms"] for c in group])}
    return result


def _per_worker(calls: list[dict]) -> dict:
    result = {}
    for worker, group in sorted(_group(calls, lambda c: c["worker"]).items()):
        latencies = sorted(c["latency_ms"] for c in group)
        result[str(worker)] = {"calls": len(group), "ok": sum(1 for c in group if c["code"] == "OK"),
                               "p50": percentile(latencies, 50), "p99": percentile(latencies, 99)}
    return result


def _per_code(calls: list[dict]) -> dict:
    result = {}
    for code, group in sorted(_group(calls, lambda c: c["code"]).items(), key=lambda kv: (-len(kv[1]), kv[0])):
        result[code] = {"calls": len(group), "unexpected": sum(1 for c in group if c["outcome"] == "unexpected")}
    return result


def _invalid_kinds(calls: list[dict]) -> dict:
    """Per invalid kind: the expected status, the statuses that came back, and how many were as expected."""
    result = {}
    for kind, group in sorted(_group([c for c in calls if c["kind"] != "valid"], lambda c: c["kind"]).items()):
        expected = Counter(c["expected"] for c in group)
        returned = Counter(c["code"] for c in group)
        result[kind] = {"calls": len(group), "expected": expected.most_common(1)[0][0],
                        "returned": dict(returned.most_common()),
                        "expected_rejections": sum(1 for c in group if c["outcome"] == "expected_rejection"),
                        "unexpected": sum(1 for c in group if c["outcome"] == "unexpected")}
    return result


def _timeline(calls: list[dict]) -> list[dict]:
    """Calls completed in each 1 s bucket (by start_s + latency), OK and not OK, with empty buckets kept."""
    buckets: dict[int, Counter] = defaultdict(Counter)
    for call in calls:
        second = math.floor(call["start_s"] + call["latency_ms"] / 1000)
        buckets[second]["ok" if call["code"] == "OK" else "not_ok"] += 1
    if not buckets:
        return []
    return [{"t": t, "ok": buckets[t]["ok"], "not_ok": buckets[t]["not_ok"]}
            for t in range(min(buckets), max(buckets) + 1)]


def _histogram(calls: list[dict]) -> list[dict]:
    """Latency counts in the log-spaced buckets [lo, hi) of HISTOGRAM_EDGES_MS, trimmed to the data.
    The first bucket starts at 0 and the last one is open (hi None)."""
    edges = (0.0,) + HISTOGRAM_EDGES_MS
    counts = [Counter() for _ in edges]
    for call in calls:
        index = sum(1 for edge in HISTOGRAM_EDGES_MS if call["latency_ms"] >= edge)
        counts[index]["ok" if call["code"] == "OK" else "not_ok"] += 1
    used = [i for i, c in enumerate(counts) if c]
    if not used:
        return []
    return [{"lo": edges[i], "hi": edges[i + 1] if i + 1 < len(edges) else None,
             "ok": counts[i]["ok"], "not_ok": counts[i]["not_ok"]} for i in range(used[0], used[-1] + 1)]


def verdict(totals: dict, latency_ok: dict, valid_success_rate: float | None, options: dict) -> dict:
    """Passed unless there were no calls, any unexpected outcome, or a missed --max-p99-ms /
    --min-success-rate threshold (the latter a fraction of the valid calls that succeeded)."""
    failures = []
    if not totals["calls"]:
        failures.append("no calls were measured")
    if totals["unexpected"]:
        failures.append(f"{totals['unexpected']:,} unexpected outcome(s)")
    max_p99 = options.get("max_p99_ms")
    if max_p99 is not None and latency_ok["p99"] is not None and latency_ok["p99"] > max_p99:
        failures.append(f"p99 of OK calls {latency_ok['p99']:.2f} ms is above --max-p99-ms {max_p99}")
    min_rate = options.get("min_success_rate")
    if min_rate is not None and (valid_success_rate or 0.0) < min_rate:
        failures.append(f"success rate of valid calls {valid_success_rate or 0.0:.2%} is below "
                        f"--min-success-rate {min_rate:.2%}")
    return {"passed": not failures, "failures": failures}


def summarize(calls: list[dict], run: dict) -> dict:
    """Everything the report and the JSON show, from the calls of one run (warm-up calls left out)."""
    measured = [c for c in calls if not c.get("warmup")]
    totals = _outcomes(measured) | {"warmup_calls": len(calls) - len(measured)}
    valid = [c for c in measured if c["kind"] == "valid"]
    duration = run.get("duration_s") or 0.0
    ok_latencies = [c["latency_ms"] for c in measured if c["code"] == "OK"]
    latency = {"ok": latency_stats(ok_latencies), "all": latency_stats([c["latency_ms"] for c in measured])}
    valid_success_rate = _rate(sum(1 for c in valid if c["outcome"] == "success"), len(valid))
    reasons = Counter(c["reason"] for c in measured if c["reason"])
    return {
        "run": {key: run.get(key) for key in ("name", "started_at", "duration_s", "interrupted")},
        "totals": totals,
        "success_rate": _rate(totals["successes"], totals["calls"]),
        "valid_success_rate": valid_success_rate,
        "as_expected_rate": _rate(totals["successes"] + totals["expected_rejections"], totals["calls"]),
        "throughput": totals["calls"] / duration if duration > 0 else None,
        "ok_throughput": len(ok_latencies) / duration if duration > 0 else None,
        "latency": latency,
        "per_rpc": _per_rpc(measured),
        "by_region": _placement(measured, "region"),
        "by_shard": _placement(measured, "shard"),
        "served_by": served_by(measured),
        "by_code": _per_code(measured),
        "by_reason": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        "by_worker": _per_worker(measured),
        "invalid_kinds": _invalid_kinds(measured),
        "unexpected": [c for c in measured if c["outcome"] == "unexpected"],
        "timeline": _timeline(measured),
        "histogram": _histogram(measured),
        "verdict": verdict(totals, latency["ok"], valid_success_rate, run.get("options") or {}),
    }


def _delta(current: float | None, baseline: float | None) -> dict:
    delta = current - baseline if current is not None and baseline is not None else None
    pct = delta / baseline * 100 if delta is not None and baseline else None
    return {"current": current, "baseline": baseline, "delta": delta, "delta_pct": pct}


def compare(summary: dict, baseline: dict) -> dict:
    """This run against a baseline run's summary: throughput, success rate, and p50/p99 of OK calls,
    overall and per RPC (an RPC that only one of the runs made has None on the other side)."""
    per_rpc = {}
    for rpc in sorted(set(summary["per_rpc"]) | set(baseline["per_rpc"])):
        mine = summary["per_rpc"].get(rpc, {}).get("latency_ok", {})
        theirs = baseline["per_rpc"].get(rpc, {}).get("latency_ok", {})
        per_rpc[rpc] = {p: _delta(mine.get(p), theirs.get(p)) for p in ("p50", "p99")}
    return {
        "baseline_run": baseline.get("run", {}),
        "overall": {
            "throughput": _delta(summary["throughput"], baseline["throughput"]),
            "success_rate": _delta(summary["success_rate"], baseline["success_rate"]),
            "p50": _delta(summary["latency"]["ok"]["p50"], baseline["latency"]["ok"]["p50"]),
            "p99": _delta(summary["latency"]["ok"]["p99"], baseline["latency"]["ok"]["p99"]),
        },
        "per_rpc": per_rpc,
    }
