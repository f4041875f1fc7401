"""The statistics of a load run, kept as the calls come in: counters and fixed-size histograms per RPC,
status, region, shard, worker and slot of time (loaddriver.timeline), so memory does not grow with the number
of calls.

Percentiles are nearest-rank (the p-th of n latencies is the one at rank ⌈p/100 · n⌉), read back from the
histograms within 0.4 % (see loaddriver.histogram). In --rps runs every latency is also timed from the
call's slot in the schedule ("from schedule", coordinated-omission corrected) beside the time from its
send. Warm-up calls are left out of every figure here.
"""
from __future__ import annotations

from collections import Counter, defaultdict

from loaddriver.figures import driver_cpu, rate, warnings
from loaddriver.histogram import LatencyHistogram, min_samples
from loaddriver.invalid import KINDS
from loaddriver.served_by import ServedBy
from loaddriver.timeline import Timeline

PERCENTILES = (("p50", "50"), ("p90", "90"), ("p95", "95"), ("p99", "99"), ("p99.9", "99.9"))
CURVE_POINTS = ("0", "25", "50", "75", "90", "95", "98", "99", "99.5", "99.9", "99.95", "99.99", "100")
INVALID_KINDS = tuple(KINDS)  # every kind the driver can send, so the report names those that never ran
# Six log-spaced histogram edges per decade (1, 1.5, 2, 3, 5, 7 x 10^k ms), from 0.1 ms to 70 s.
HISTOGRAM_EDGES_MS = tuple(round(m * 10.0 ** e, 6) for e in range(-1, 5) for m in (1, 1.5, 2, 3, 5, 7))
MAX_UNEXPECTED_KEPT = 1000  # listed in the JSON; every one is in the CSV
NO_VALUE = "(none)"
_NOT_NEW_ROWS = ("Update", "Get", "List", "Delete")


def latency_stats(histogram: LatencyHistogram) -> dict:
    """count, min, max, mean and the percentiles of PERCENTILES in ms (None without values), and `thin`: the
    percentiles that rest on too few samples to be more than the largest latencies."""
    values = histogram.percentiles([p for _name, p in PERCENTILES])
    stats = {"count": histogram.count, "min": histogram.min_ms, "max": histogram.max_ms, "mean": histogram.mean()}
    stats.update((name, value) for (name, _p), value in zip(PERCENTILES, values, strict=True))
    stats["thin"] = [name for name, p in PERCENTILES if 0 < histogram.count < min_samples(p)]
    return stats


def writes_new_row(rpc: str) -> bool:
    """Whether a successful call of `rpc` adds a row (a create, enrolment, progress record or payment)."""
    return not rpc.startswith(_NOT_NEW_ROWS)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _outcomes(counts: Counter) -> dict:
    return {"calls": counts["calls"], "successes": counts["success"],
            "expected_rejections": counts["expected_rejection"], "unexpected": counts["unexpected"]}


class RunStats:
    """Everything the report and the JSON show, accumulated one call record at a time (add), then read as
    one JSON-ready summary (summary). Not thread-safe: the driver adds under its lock."""

    def __init__(self) -> None:
        self.outcomes: Counter = Counter()
        self.warmup_calls = 0
        self.valid: Counter = Counter()
        self.latency = {key: LatencyHistogram() for key in ("ok", "all", "ok_from_schedule", "all_from_schedule")}
        self.per_rpc: dict[str, dict] = defaultdict(lambda: {"outcomes": Counter(), "ok": LatencyHistogram(),
                                                               "all": LatencyHistogram()})
        self.placement = {"region": defaultdict(Counter), "shard": defaultdict(Counter)}
        self.served_by = ServedBy()
        self.by_code: dict[str, Counter] = defaultdict(Counter)
        self.reasons: Counter = Counter()
        self.rows: Counter = Counter()
        self.by_worker: dict[int, dict] = defaultdict(lambda: {"calls": 0, "ok": 0, "all": LatencyHistogram()})
        self.invalid: dict[str, dict] = defaultdict(lambda: {"expected": Counter(), "returned": Counter(),
                                                             "outcomes": Counter()})
        self.unexpected: list[dict] = []
        self.timeline = Timeline()
        self.buckets = [Counter() for _ in range(len(HISTOGRAM_EDGES_MS) + 1)]
        self.last_start_s: float | None = None
        self.first_slot_s: float | None = None

    def add(self, call: dict) -> None:
        if call.get("warmup"):
            self.warmup_calls += 1
            return
        ok, latency, scheduled = call["code"] == "OK", call["latency_ms"], call.get("scheduled_latency_ms")
        self.outcomes.update(("calls", call["outcome"]))
        if call["kind"] == "valid":
            self.valid.update(("calls", call["outcome"]))
        for key, value in (("", latency), ("_from_schedule", scheduled)):
            if value is not None:
                self.latency["all" + key].record(value)
                if ok:
                    self.latency["ok" + key].record(value)
        rpc = self.per_rpc[call["rpc"]]
        rpc["outcomes"].update(("calls", call["outcome"]))
        rpc["all"].record(latency)
        if ok:
            rpc["ok"].record(latency)
        for field, counters in self.placement.items():
            counters[call[field] or NO_VALUE].update(
                ("calls", "ok" if ok else "not_ok") + (("rows",) if ok and writes_new_row(call["rpc"]) else ()))
        self.served_by.add(call.get("served_by") or "")
        # A batch is one call and many rows: the report counts the two apart.
        rows = call.get("rows", 1) if ok and writes_new_row(call["rpc"]) else 0
        self.rows.update({"calls": 1, "rows": rows})
        if call.get("items"):
            self.rows.update({"batch_calls": 1, "batch_rows": rows})
        self.by_code[call["code"]].update(("calls",) + (("unexpected",) if call["outcome"] == "unexpected" else ()))
        if call["reason"]:
            self.reasons[call["reason"]] += 1
        worker = self.by_worker[call["worker"]]
        worker["calls"] += 1
        worker["ok"] += ok
        worker["all"].record(latency)
        if call["kind"] != "valid":
            kind = self.invalid[call["kind"]]
            kind["expected"][call["expected"]] += 1
            kind["returned"][call["code"]] += 1
            kind["outcomes"].update(("calls", call["outcome"]))
        if call["outcome"] == "unexpected" and len(self.unexpected) < MAX_UNEXPECTED_KEPT:
            self.unexpected.append(call)
        self.timeline.add(call["start_s"] + latency / 1000, ok, latency, scheduled)
        self.buckets[sum(1 for edge in HISTOGRAM_EDGES_MS if latency >= edge)]["ok" if ok else "not_ok"] += 1
        self.last_start_s = max(self.last_start_s or 0.0, call["start_s"])
        if call.get("scheduled_s") is not None:
            self.first_slot_s = min(self.first_slot_s, call["scheduled_s"]) if self.first_slot_s is not None \
                else call["scheduled_s"]

    def summary(self, run: dict) -> dict:
        """The summary of the calls added so far, for the `run` record the driver returned."""
        totals = _outcomes(self.outcomes) | {"warmup_calls": self.warmup_calls}
        duration = run.get("duration_s") or 0.0
        latency = {key: latency_stats(h) for key, h in self.latency.items()}
        valid_success_rate = _rate(self.valid["success"], self.valid["calls"])
        options = run.get("options") or {}
        summary = {
            "run": {key: run.get(key) for key in ("name", "started_at", "duration_s", "interrupted")},
            "totals": totals,
            "success_rate": _rate(totals["successes"], totals["calls"]),
            "valid_success_rate": valid_success_rate,
            "as_expected_rate": _rate(totals["successes"] + totals["expected_rejections"], totals["calls"]),
            "throughput": totals["calls"] / duration if duration > 0 else None,
            "rows": {key: self.rows[key] for key in ("calls", "rows", "batch_calls", "batch_rows")} | {
                "rows_per_s": self.rows["rows"] / duration if duration > 0 else None},
            "ok_throughput": self.latency["ok"].count / duration if duration > 0 else None,
            "rate": rate(options, totals["calls"], self.last_start_s, self.first_slot_s),
            "driver": driver_cpu(run.get("driver") or {}),
            "latency": latency,
            "percentile_curve": self._curve(),
            "per_rpc": {rpc: _outcomes(e["outcomes"]) | {"latency_ok": latency_stats(e["ok"]),
                                                          "latency_all": latency_stats(e["all"])}
                        for rpc, e in sorted(self.per_rpc.items())},
            "by_region": self._placement("region"),
            "by_shard": self._placement("shard"),
            "served_by": self.served_by.summary(),
            "by_code": {code: {"calls": c["calls"], "unexpected": c["unexpected"]} for code, c in
                        sorted(self.by_code.items(), key=lambda kv: (-kv[1]["calls"], kv[0]))},
            "by_reason": dict(sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
            "by_worker": {str(w): {"calls": e["calls"], "ok": e["ok"], **dict(zip(("p50", "p99"),
                                                                                  e["all"].percentiles(("50", "99")),
                                                                                  strict=True))}
                          for w, e in sorted(self.by_worker.items())},
            "invalid_kinds": self._invalid_kinds(),
            "unexpected": self.unexpected,
            "timeline": self.timeline.rows(),
            "histogram": self._histogram(),
            "server_side": run.get("server_side"),
        }
        summary["warnings"] = warnings(summary)
        summary["verdict"] = verdict(totals, latency["ok"], valid_success_rate, options, summary["rate"])
        return summary

    def _curve(self) -> dict:
        """Latency of OK calls at CURVE_POINTS percentiles, from the send and (in --rps runs) from the schedule."""
        return {"percentiles": [float(p) for p in CURVE_POINTS],
                "from_send": self.latency["ok"].percentiles(CURVE_POINTS),
                "from_schedule": self.latency["ok_from_schedule"].percentiles(CURVE_POINTS)}

    def _placement(self, field: str) -> dict:
        """Calls, OK calls and new rows per value of `field` (region or shard), most calls first."""
        ordered = sorted(self.placement[field].items(), key=lambda kv: -kv[1]["calls"])
        return {value: {k: c[k] for k in ("calls", "ok", "not_ok", "rows")} for value, c in ordered}

    def _invalid_kinds(self) -> dict:
        """Per invalid kind: the expected status, the statuses that came back, and how many were as expected."""
        return {kind: {"calls": e["outcomes"]["calls"], "expected": e["expected"].most_common(1)[0][0],
                       "returned": dict(e["returned"].most_common()),
                       "expected_rejections": e["outcomes"]["expected_rejection"],
                       "unexpected": e["outcomes"]["unexpected"]} for kind, e in sorted(self.invalid.items())}

    def _histogram(self) -> list[dict]:
        """Latency counts in the log-spaced buckets [lo, hi) of HISTOGRAM_EDGES_MS, trimmed to the data.
        The first bucket starts at 0 and the last one is open (hi None)."""
        edges = (0.0,) + HISTOGRAM_EDGES_MS
        used = [i for i, c in enumerate(self.buckets) if c]
        if not used:
            return []
        return [{"lo": edges[i], "hi": edges[i + 1] if i + 1 < len(edges) else None,
                 "ok": self.buckets[i]["ok"], "not_ok": self.buckets[i]["not_ok"]}
                for i in range(used[0], used[-1] + 1)]


def summarize(calls, run: dict) -> dict:
    """The summary of a sequence of call records (RunStats in one go)."""
    stats = RunStats()
    for call in calls:
        stats.add(call)
    return stats.summary(run)


def verdict(totals: dict, latency_ok: dict, valid_success_rate: float | None, options: dict,
            rate_figures: dict | None = None) -> dict:
    """Passed unless there were no calls, any unexpected outcome, a --rps target missed by more than
    --min-rate-ratio, or a missed --max-p99-ms / --min-success-rate threshold."""
    failures = []
    if not totals["calls"]:
        failures.append("no calls were measured")
    if totals["unexpected"]:
        failures.append(f"{totals['unexpected']:,} unexpected outcome(s)")
    if rate_figures and rate_figures["missed"]:
        failures.append(f"achieved {rate_figures['achieved_rps']:,.1f} calls/s of the target "
                        f"{rate_figures['target_rps']:,.1f}/s (ratio {rate_figures['ratio']:.2f}, below "
                        f"--min-rate-ratio {rate_figures['min_ratio']:.2f})")
    max_p99 = options.get("max_p99_ms")
    if max_p99 is not None and latency_ok["p99"] is not None and latency_ok["p99"] > max_p99:
        failures.append(f"p99 of OK calls {latency_ok['p99']:.2f} ms is above --max-p99-ms {max_p99}")
    min_rate = options.get("min_success_rate")
    if min_rate is not None and (valid_success_rate or 0.0) < min_rate:
        failures.append(f"success rate of valid calls {valid_success_rate or 0.0:.2%} is below "
                        f"--min-success-rate {min_rate:.2%}")
    return {"passed": not failures, "failures": failures}
