"""The server-side view of a run, from the processes' /metrics endpoints scraped before and after it: per
shard SQL latency and commit time, pool waits, replica lag, shed calls, and the gateway's own time beside
its backends'. Counters and histograms are differences (this run only); gauges are their values at the end."""
from __future__ import annotations

import math
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
NOT_COLLECTED = ("Not collected: the topology names no metrics endpoints (\"metrics\"), or none answered. "
                 "`elearn up` runs every process with one; see `elearn status`.")
TIMEOUT_S = 3.0


def endpoints(topology: Mapping) -> dict[str, str]:
    """process → its /metrics URL, from the topology's "metrics" map."""
    found = topology.get("metrics") if isinstance(topology, Mapping) else None
    if not isinstance(found, Mapping):
        return {}
    return {name: f"http://{address}/metrics" for name, address in found.items() if isinstance(address, str)}


def scrape(urls: Mapping[str, str]) -> dict[str, Samples]:
    """Every answering endpoint's samples; one that does not answer is left out."""
    snapshot = {}
    for process, url in urls.items():
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT_S) as reply:
                text = reply.read().decode()
        except (urllib.error.URLError, OSError, ValueError):
            continue
        snapshot[process] = {(s.name, tuple(sorted(s.labels.items()))): s.value
                             for family in text_string_to_metric_families(text) for s in family.samples}
    return snapshot


def _delta(before: Samples, after: Samples) -> Samples:
    return {key: value - before.get(key, 0.0) for key, value in after.items()}


def _grouped(snapshots: Mapping[str, Samples], name: str, by: Sequence[str]) -> dict[tuple, float]:
    """Sum of a series over every process, grouped by the `by` labels (Prometheus's `sum by`)."""
    out: dict[tuple, float] = {}
    for samples in snapshots.values():
        for (series, labels), value in samples.items():
            if series == name:
                found = dict(labels)
                key = tuple(found.get(label, "") for label in by)
                out[key] = out.get(key, 0.0) + value
    return out


def _quantile(q: float, buckets: Mapping[float, float]) -> float | None:
    """Prometheus's histogram_quantile over cumulative bucket counts {upper bound: count}."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return None
    rank = q * buckets[bounds[-1]]
    lower_bound, lower_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = bound, count
    return bounds[-1]


def _latency(snapshots: Mapping[str, Samples], name: str, by: Sequence[str]) -> dict[tuple, dict]:
    """Per group: count, mean and p99 (ms) of a histogram."""
    counts = _grouped(snapshots, f"{name}_count", by)
    sums = _grouped(snapshots, f"{name}_sum", by)
    buckets = _grouped(snapshots, f"{name}_bucket", (*by, "le"))
    out = {}
    for key, count in sorted(counts.items()):
        if count <= 0:
            continue
        mine = {float(k[-1]): v for k, v in buckets.items() if k[:-1] == key}
        p99 = _quantile(0.99, mine)
        out[key] = {"count": count, "mean_ms": 1000 * sums.get(key, 0.0) / count,
                    "p99_ms": None if p99 is None else 1000 * p99}
    return out


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} ms"


def figures(before: Mapping[str, Samples], after: Mapping[str, Samples]) -> dict[str, dict[str, str]]:
    """The report's tables: {section: {figure: value}}."""
    run = {p: _delta(before.get(p, {}), samples) for p, samples in after.items()}
    out: dict[str, dict[str, str]] = {}
    sql = _latency(run, "elearn_db_query_seconds", ("shard", "role"))
    out["SQL statements per shard (all services)"] = {
        f"{shard} {role}": f"{int(f['count'])} statements, mean {_ms(f['mean_ms'])}, p99 {_ms(f['p99_ms'])}"
        for (shard, role), f in sql.items()}
    commits = _latency(run, "elearn_db_commit_seconds", ("shard",))
    out["COMMIT per shard (with the wait for the synchronous standby)"] = {
        shard: f"{int(f['count'])} commits, mean {_ms(f['mean_ms'])}, p99 {_ms(f['p99_ms'])}"
        for (shard,), f in commits.items()}
    timeouts = _grouped(run, "elearn_db_pool_timeouts_total", ("shard", "role"))
    waiting = _grouped(after, "elearn_db_pool_waiting", ("shard", "role"))
    out["Connection pools"] = {f"{shard} {role}": f"{int(timeouts.get((shard, role), 0))} timed out waiting, "
                                                  f"{int(waiting.get((shard, role), 0))} waiting at the end"
                               for shard, role in sorted(set(timeouts) | set(waiting))}
    lag_bytes = _max(after, "elearn_replica_lag_bytes")
    lag_s = _max(after, "elearn_replica_lag_seconds")
    out["Replica lag at the end of the run"] = {
        shard: f"{int(lag_bytes.get(shard, 0))} B, {lag_s.get(shard, 0.0):.3f} s" for shard in sorted(lag_bytes)}
    shed = _grouped(run, "elearn_shed_calls_total", ())
    by_process = {p: sum(v for (n, _l), v in samples.items() if n == "elearn_shed_calls_total")
                  for p, samples in run.items()}
    out["Calls shed (RESOURCE_EXHAUSTED)"] = {**{p: str(int(v)) for p, v in sorted(by_process.items())},
                                              "total": str(int(shed.get((), 0)))}
    # the public calls only: the gateway's health checks of its backends are not the run's
    gateway = {p: {k: v for k, v in s.items() if not dict(k[1]).get("grpc_service", "").startswith("grpc.")}
               for p, s in run.items() if p == "gateway"}
    served = _latency(gateway, "grpc_server_handling_seconds", ())
    backend = _latency(gateway, "grpc_client_handling_seconds", ())
    if served and backend:
        total, behind = served[()], backend[()]
        out["Gateway time against backend time"] = {
            "calls through the gateway": str(int(total["count"])),
            "at the gateway (mean, p99)": f"{_ms(total['mean_ms'])}, {_ms(total['p99_ms'])}",
            "in the backends (mean, p99)": f"{_ms(behind['mean_ms'])}, {_ms(behind['p99_ms'])}",
            # per call through the gateway: its time less the time its backend attempts took
            "the gateway's own share (mean)": _ms(
                total["mean_ms"] - behind["mean_ms"] * behind["count"] / total["count"]),
        }
    return {name: rows for name, rows in out.items() if rows}


def _max(snapshots: Mapping[str, Samples], name: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for samples in snapshots.values():
        for (series, labels), value in samples.items():
            if series == name:
                shard = dict(labels).get("shard", "")
                out[shard] = max(out.get(shard, value), value)
    return out


def collect(urls: Mapping[str, str] | None = None, before: Mapping[str, Samples] | None = None,
            after: Mapping[str, Samples] | None = None) -> dict:
    """The summary's "server_side" entry: the endpoints, and figures when both scrapes found some."""
    urls = urls or {}
    if not urls or not before or not after:
        return {"endpoints": list(urls.values()), "figures": None, "note": NOT_COLLECTED}
    missing = sorted(set(urls) - set(after))
    note = f"Scraped before and after the run. Not answering: {', '.join(missing)}." if missing else \
        "Scraped from every process before and after the run; counts and latencies are this run's only."
    return {"endpoints": list(urls.values()), "figures": figures(before, after), "note": note}
