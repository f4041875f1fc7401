"""The load report's server-side figures from two scrapes of real exposition text: this run's differences,
quantiles as Prometheus computes them, gauges at the end, and "not collected" when nothing answered."""
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from loaddriver import server_side


def parse(registry: CollectorRegistry) -> server_side.Samples:
    text = generate_latest(registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def process_metrics():
    registry = CollectorRegistry()
    query = Histogram("elearn_db_query_seconds", "", ("shard", "role"), buckets=(0.001, 0.01, 0.1),
                      registry=registry)
    timeouts = Counter("elearn_db_pool_timeouts_total", "", ("shard", "role"), registry=registry)
    lag = Gauge("elearn_replica_lag_bytes", "", ("shard",), registry=registry)
    shed = Counter("elearn_shed_calls_total", "", ("grpc_service", "grpc_method"), registry=registry)
    return registry, query, timeouts, lag, shed


def test_figures_are_this_runs_differences():
    registry, query, timeouts, lag, shed = process_metrics()
    for _ in range(50):
        query.labels("eu", "primary").observe(0.5)  # before the run: slow, must not count
    before = {"users": parse(registry)}
    for n in range(100):  # the run: 99 fast statements, one slow
        query.labels("eu", "primary").observe(0.005 if n else 0.05)
    timeouts.labels("eu", "primary").inc(3)
    lag.labels("eu").set(4096)
    shed.labels("elearning.users.v1.UserService", "GetUser").inc(7)
    after = {"users": parse(registry)}

    found = server_side.collect({"users": "http://x/metrics"}, before, after)
    figures = found["figures"]
    sql = figures["SQL statements per shard (all services)"]["eu primary"]
    assert sql.startswith("100 statements, mean 5.45 ms")  # (99 × 5 + 50) / 100
    assert "p99 10.00 ms" in sql  # the 99th of 100 lies at the top of the 1-10 ms bucket
    assert figures["Connection pools"]["eu primary"].startswith("3 timed out")
    assert figures["Replica lag at the end of the run"]["eu"].startswith("4096 B")
    assert figures["Calls shed (RESOURCE_EXHAUSTED)"] == {"users": "7", "total": "7"}


def test_quantile_interpolates_within_the_bucket_like_prometheus():
    assert server_side._quantile(0.5, {0.1: 0.0, 0.2: 10.0, float("inf"): 10.0}) == pytest.approx(0.15)
    assert server_side._quantile(0.99, {0.1: 0.0, float("inf"): 0.0}) is None
    assert server_side._quantile(0.99, {0.1: 5.0, float("inf"): 10.0}) == 0.1  # in +Inf: the last finite bound


def test_nothing_answering_is_not_collected():
    urls = server_side.endpoints({"metrics": {"users": "127.0.0.1:1"}})
    assert urls == {"users": "http://127.0.0.1:1/metrics"}
    assert server_side.scrape(urls) == {}
    assert server_side.collect(urls, {}, {})["figures"] is None
    assert server_side.endpoints({}) == {}
