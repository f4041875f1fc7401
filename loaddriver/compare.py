"""A run against a baseline run (--baseline): throughput, success rate and OK-call latency, overall and per
RPC, as current, baseline, change and change in percent."""
from __future__ import annotations


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
