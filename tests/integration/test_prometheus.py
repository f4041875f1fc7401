"""A real Prometheus (Debian's) scraping the session cluster: after a short load its HTTP API answers a
per-method call rate, a per-shard query latency and every shard's replica lag, and its alerting rules load."""
from __future__ import annotations

import json
import math
import subprocess
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from elearning.users.v1 import users_service_pb2 as users_pb
from elearning.users.v1 import users_service_pb2_grpc as users_grpc
from launcher.layout import SHARD_NAMES
from launcher.prometheus import RULES
from tests.channels import open_channel
from tests.integration import courses_client

pytestmark = [pytest.mark.cluster, pytest.mark.slow]
USERS = "elearning.users.v1.UserService"


@pytest.fixture(scope="module")
def prometheus(cluster):
    address = cluster.cluster.up_prometheus()
    yield f"http://{address}"
    cluster.cluster.processes.stop("prometheus")


def query(base: str, promql: str) -> dict[str, float]:
    """An instant query; the result as {label values joined by ",": value}."""
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=5) as reply:
        body = json.load(reply)
    assert body["status"] == "success", body
    return {",".join(r["metric"].values()): float(r["value"][1]) for r in body["data"]["result"]}


def until(check, seconds: float = 40.0):
    give_up = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > give_up:
            return found
        time.sleep(1)


def test_the_rules_are_valid():
    checked = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_prometheus_sees_call_rates_query_latency_and_replica_lag(cluster, prometheus):
    # A channel of its own: the session's may be in a reconnect backoff after the tests that stop processes.
    channel = open_channel(cluster, cluster.gateway)
    grpc.channel_ready_future(channel).result(timeout=30)
    users = users_grpc.UserServiceStub(channel)

    def caller(n: int) -> int:
        made = 0
        while time.monotonic() < stop:
            user = courses_client.instructor(channel, ("EUROPE", "ASIA")[n % 2], role=users_pb.USER_ROLE_STUDENT)
            users.GetUser(users_pb.GetUserRequest(id=user.id), timeout=10)
            made += 1
        return made

    # Calls for several scrapes (1 s apart): a rate needs two samples of a series after it appeared.
    stop = time.monotonic() + 8
    with ThreadPoolExecutor(6) as pool:
        assert sum(pool.map(caller, range(6))) > 0
    channel.close()

    rates = until(lambda: (lambda r: r if r.get("CreateUser", 0) > 0 and r.get("GetUser", 0) > 0 else None)(
        query(prometheus, f'sum by (grpc_method) (rate(grpc_server_handled_total{{process="gateway",'
                          f'grpc_service="{USERS}"}}[1m]))')))
    assert rates and rates["CreateUser"] > 0 and rates["GetUser"] > 0, rates
    assert "DeleteUser" not in rates or rates["DeleteUser"] == 0

    latency = until(lambda: (lambda r: r if {"eu", "apac"} <= set(r) else None)(
        query(prometheus, 'histogram_quantile(0.9, sum by (le, shard) '
                          '(rate(elearn_db_query_seconds_bucket{process="users",role="primary"}[1m])))')))
    assert latency and all(0 < latency[s] < 10 for s in ("eu", "apac")), latency

    lag = query(prometheus, 'max by (shard) (elearn_replica_lag_bytes{process="users"})')
    assert set(lag) == set(SHARD_NAMES) and all(math.isfinite(v) and v >= 0 for v in lag.values()), lag
    assert query(prometheus, "min by (shard) (elearn_shard_primary_up)") == {s: 1.0 for s in SHARD_NAMES}

    with urllib.request.urlopen(f"{prometheus}/api/v1/rules", timeout=5) as reply:
        rules = [r for g in json.load(reply)["data"]["groups"] for r in g["rules"]]
    assert {r["name"] for r in rules} == {"ShardWithoutPrimary", "ReplicaLagging", "HighErrorRatio", "CallsShed"}
    assert all(r["health"] == "ok" for r in rules), rules
    firing = [r["name"] for r in rules if r["state"] == "firing"]
    assert "ShardWithoutPrimary" not in firing
