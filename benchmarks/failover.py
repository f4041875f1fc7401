"""`make bench-failover`: how long a shard is without writes when its primary dies, and what synchronous
replication costs, on the local cluster in --data-dir (which `make bench-failover` boots and stops).

Each round: writer threads create EU users through the gateway; the eu primary's postmaster is killed with
SIGKILL; the time until a write to eu is refused (UNAVAILABLE) is measured, then `Cluster.failover` runs (the
code behind `elearn failover`), and the time until a write succeeds again. Every acknowledged write is then
looked up on the new primary: the number missing is printed (it must be 0 in sync mode). Rounds alternate the
two nodes. Then CreateUser runs for a few seconds at concurrency 8 with synchronous and with asynchronous
replication, side by side.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import pathlib
import signal
import statistics
import threading
import time
import uuid

import grpc
import psycopg2

from benchmarks.measure import drive
from elearning.common.v1 import common_pb2
from elearning.users.v1 import users_service_pb2 as pb
from elearning.users.v1 import users_service_pb2_grpc as pb_grpc
from launcher import postgres
from launcher.cluster import Cluster
from launcher.layout import SHARD_NAMES, Layout

SHARD = "eu"


def new_user() -> pb.CreateUserRequest:
    return pb.CreateUserRequest(user=pb.User(email=f"fo-{uuid.uuid4().hex[:12]}@example.com", full_name="Bench User",
                                             region=common_pb2.EUROPE, role=pb.STUDENT))


class Writers:
    def __init__(self, stub, threads: int = 4):
        self.stub = stub
        self.acknowledged: list[int] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.acknowledged.append(self.stub.CreateUser(new_user(), timeout=3).id)
            except grpc.RpcError:
                time.sleep(0.01)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def until(stub, ok: bool, limit_s: float = 30) -> float:
    """Seconds until a write to eu succeeds (ok) or is refused (not ok)."""
    began = time.monotonic()
    while time.monotonic() - began < limit_s:
        try:
            stub.CreateUser(new_user(), timeout=3)
            if ok:
                return time.monotonic() - began
        except grpc.RpcError as exc:
            if not ok and exc.code() == grpc.StatusCode.UNAVAILABLE:
                return time.monotonic() - began
        time.sleep(0.005)
    raise RuntimeError(f"no {'successful' if ok else 'refused'} write within {limit_s} s")


def one_round(cluster: Cluster, stub) -> dict:
    writers = Writers(stub)
    writers.start()
    time.sleep(1.0)
    os.kill(postgres.postmaster_pid(cluster.layout.pg_dir(SHARD, "primary")), signal.SIGKILL)
    killed = time.monotonic()
    refused_after = until(stub, ok=False)
    began = time.monotonic()
    result = cluster.failover(SHARD)
    until(stub, ok=True)
    back = time.monotonic()
    writers.stop()
    ids = writers.acknowledged
    return {"refused_s": refused_after, "steps": result.steps, "command_s": result.total_s,
            "failover_to_write_s": back - began, "kill_to_write_s": back - killed,
            "acknowledged": len(ids),
            "missing": len(set(ids) - ids_on_primary(cluster, ids))}


def ids_on_primary(cluster: Cluster, ids: list[int]) -> set[int]:
    conn = psycopg2.connect(postgres.dsn(cluster.layout.pg_port(SHARD, "primary")))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM users WHERE id = ANY(%s)", (ids,))
            return {row[0] for row in cur.fetchall()}
    finally:
        conn.close()


def write_rate(gateway: str, seconds: float) -> tuple[float, float, float]:
    async def run():
        async with grpc.aio.insecure_channel(gateway) as channel:
            stub = pb_grpc.UserServiceStub(channel)
            return await drive("CreateUser", lambda _i: stub.CreateUser(new_user(), timeout=5), 8, seconds)
    figures = asyncio.run(run())
    return figures.rate, figures.p50_ms, figures.p99_ms


def set_mode(cluster: Cluster, mode: str) -> Cluster:
    layout = dataclasses.replace(cluster.layout, replication=mode)
    layout.save()
    switched = Cluster(layout, say=lambda _m: None)
    for shard in SHARD_NAMES:
        switched.apply_replication_mode(shard)
    return switched


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0, help="per write-rate run")
    args = parser.parse_args()
    layout = Layout.load(pathlib.Path(args.data_dir).resolve())
    cluster = Cluster(layout, say=lambda _m: None)
    gateway = f"{layout.ports.host}:{layout.ports.gateway}"
    cluster = set_mode(cluster, "sync")
    first_primary = layout.primary_node(SHARD)
    with grpc.insecure_channel(gateway) as channel:
        stub = pb_grpc.UserServiceStub(channel)
        until(stub, ok=True)
        rounds = []
        for number in range(1, args.rounds + 1):
            found = one_round(cluster, stub)
            rounds.append(found)
            steps = ", ".join(f"{k} {v:.2f} s" for k, v in found["steps"].items())
            print(f"round {number}: writes refused {found['refused_s'] * 1000:.0f} ms after the kill; failover "
                  f"{found['command_s']:.2f} s ({steps}), first write {found['failover_to_write_s']:.2f} s after "
                  f"it began; kill → first write {found['kill_to_write_s']:.2f} s; "
                  f"{found['acknowledged']} writes acknowledged, {found['missing']} missing", flush=True)
        if cluster.layout.primary_node(SHARD) != first_primary:
            began = time.monotonic()
            cluster.failover(SHARD)  # a planned switchover back: the shard ends as it began
            until(stub, ok=True)
            print(f"planned switchover back: first write {time.monotonic() - began:.2f} s after it began",
                  flush=True)
    median = statistics.median
    print(f"failover (median of {len(rounds)}): writes refused after "
          f"{median(r['refused_s'] for r in rounds) * 1000:.0f} ms, "
          f"promoted after {median(r['steps']['fence'] + r['steps']['promote'] for r in rounds):.2f} s, "
          f"command {median(r['command_s'] for r in rounds):.2f} s, first write "
          f"{median(r['failover_to_write_s'] for r in rounds):.2f} s after it began, kill → first write "
          f"{median(r['kill_to_write_s'] for r in rounds):.2f} s; acknowledged writes lost: "
          f"{sum(r['missing'] for r in rounds)} of {sum(r['acknowledged'] for r in rounds)}")
    sync_rate = write_rate(gateway, args.seconds)
    cluster = set_mode(cluster, "async")
    async_rate = write_rate(gateway, args.seconds)
    set_mode(cluster, "sync")
    for label, (rate, p50, p99) in (("sync", sync_rate), ("async", async_rate)):
        print(f"CreateUser c=8, {label:<5} replication: {rate:7.0f} calls/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
    print(f"sync/async write rate = {sync_rate[0] / async_rate[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
