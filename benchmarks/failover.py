"""`make bench-failover`: how long a shard is without writes when Patroni handles a fault, and what synchronous
replication costs, on the local cluster in --data-dir (which `make bench-failover` boots and stops).

Rounds of: writer threads create EU users through the gateway (and NA users, whose failures are counted); the
eu primary's node is killed with SIGKILL (Patroni, postmaster and backends, as if its host died); nothing is
typed: the time from the kill to the first successful write that began after it is measured, then the old
node must rejoin as the synchronous standby. Every acknowledged write is looked up on the new primary. Then
a killed replica node (the longest gap between acknowledged writes), a planned `switchover` (the same, the
longest held write and the writes refused: 0 expected, since the services hold them for the new leader), and
CreateUser for a few seconds at concurrency 8 with synchronous and with asynchronous replication.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import pathlib
import statistics
import time
import uuid

import psycopg2

from benchmarks.measure import drive
from benchmarks.shard_writers import Writers
from elearning.common.v1 import common_pb2
from elearning.users.v1 import users_service_pb2 as pb
from elearning.users.v1 import users_service_pb2_grpc as pb_grpc
from launcher.cluster import Cluster
from launcher.layout import SHARD_NAMES, Layout
from shared.channels import open_aio_channel, open_channel
from shared.settings import TlsSettings, local_topology, parse_shard_map

SHARD = "eu"
SWITCHOVER_DEADLINE_S = 10.0
SHARDS = parse_shard_map(local_topology())  # names and count decide where an email's directory entry lives


def new_user(region: int = common_pb2.REGION_EUROPE, avoid: str = "") -> pb.CreateUserRequest:
    """A new user, with a request_id (so a retry of it is safe); with `avoid`, one whose email's directory entry
    is not on that shard."""
    while True:
        email = f"fo-{uuid.uuid4().hex[:12]}@example.com"
        if not avoid or SHARDS.for_key(email).name != avoid:
            return pb.CreateUserRequest(user=pb.User(email=email, full_name="Bench User", region=region,
                                                     role=pb.USER_ROLE_STUDENT), request_id=uuid.uuid4().hex)


def writers(stub, region: int, threads: int, avoid: str = "", deadline_s: float = 3.0) -> Writers:
    return Writers(lambda: stub.CreateUser(new_user(region, avoid), timeout=deadline_s).id, threads, pause_s=0.01)


def ids_on_primary(cluster: Cluster, ids: list[int]) -> set[int]:
    conn = psycopg2.connect(cluster.layout.pg_dsn(cluster.layout.pg_port(SHARD, "primary")))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM users WHERE id = ANY(%s)", (ids,))
            return {row[0] for row in cur.fetchall()}
    finally:
        conn.close()


def fault_round(cluster: Cluster, stub, fault: str) -> dict:
    """One fault ("primary", "replica" or "switchover") under writers; the shard is whole again after it."""
    # A switchover's writes are held for the new leader within their deadline: the gateway's default 10 s.
    deadline_s = SWITCHOVER_DEADLINE_S if fault == "switchover" else 3.0
    with writers(stub, common_pb2.REGION_EUROPE, 4, deadline_s=deadline_s) as eu, \
            writers(stub, common_pb2.REGION_NORTH_AMERICA, 1, SHARD) as na:
        time.sleep(1.0)
        if fault == "switchover":
            began = time.monotonic()
            cluster.switchover(SHARD)
        else:
            cluster.nodes.kill_node(SHARD, fault)
            began = time.monotonic()
        resumed = eu.wait_for_ack_after(began, 60)
        cluster.nodes.wait_ready(SHARD)
        whole = time.monotonic() - began
        time.sleep(0.5)
        gap = eu.longest_gap(began)
    ids = eu.ids
    held = max((at - start for start, at, _id in eu.acknowledged if at > began), default=0.0)
    return {"resumed_s": resumed, "gap_s": gap, "whole_s": whole, "acknowledged": len(ids),
            "missing": len(set(ids) - ids_on_primary(cluster, ids)), "other_failures": len(na.failures),
            "refused": len([f for f in eu.failures if f[0] > began]), "held_s": held}


def write_rate(gateway: str, seconds: float, tls: TlsSettings | None) -> tuple[float, float, float]:
    async def run():
        async with open_aio_channel(gateway, tls) as channel:
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


def spread(values: list[float]) -> str:
    return (f"min {min(values):.2f} s, median {statistics.median(values):.2f} s, max {max(values):.2f} s "
            f"over {len(values)}")


def report(label: str, number: int, found: dict) -> None:
    print(f"{label} {number}: first write {found['resumed_s']:.2f} s after it, longest gap {found['gap_s']:.2f} s, "
          f"shard whole after {found['whole_s']:.2f} s; {found['acknowledged']} acknowledged, {found['missing']} "
          f"missing, {found['refused']} refused, longest write {found['held_s']:.2f} s; other shard failures "
          f"{found['other_failures']}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--rounds", type=int, default=3, help="primary kills")
    parser.add_argument("--seconds", type=float, default=4.0, help="per write-rate run")
    args = parser.parse_args()
    layout = Layout.load(pathlib.Path(args.data_dir).resolve())
    cluster = set_mode(Cluster(layout, say=lambda _m: None), "sync")
    gateway = f"{layout.ports.host}:{layout.ports.gateway}"
    results: dict[str, list[dict]] = {"primary": [], "replica": [], "switchover": []}
    with open_channel(gateway, layout.client_tls()) as channel:
        stub = pb_grpc.UserServiceStub(channel)
        cluster.nodes.wait_ready(SHARD)
        plan = [("primary", "primary node killed")] * args.rounds + [("replica", "replica node killed"),
                                                                      ("switchover", "switchover")]
        for number, (fault, label) in enumerate(plan, 1):
            found = fault_round(cluster, stub, fault)
            results[fault].append(found)
            report(label, number, found)
    everything = [r for rounds in results.values() for r in rounds]
    print(f"primary node killed → first write: {spread([r['resumed_s'] for r in results['primary']])}; "
          f"replica node killed → longest gap {max(r['gap_s'] for r in results['replica']):.2f} s; "
          f"switchover → longest gap {max(r['gap_s'] for r in results['switchover']):.2f} s, longest held write "
          f"{max(r['held_s'] for r in results['switchover']):.2f} s, refused writes "
          f"{sum(r['refused'] for r in results['switchover'])}; "
          f"acknowledged writes lost: {sum(r['missing'] for r in everything)} of "
          f"{sum(r['acknowledged'] for r in everything)}; other shard failures: "
          f"{sum(r['other_failures'] for r in everything)}", flush=True)
    sync_rate = write_rate(gateway, args.seconds, layout.client_tls())
    cluster = set_mode(cluster, "async")
    async_rate = write_rate(gateway, args.seconds, layout.client_tls())
    set_mode(cluster, "sync")
    for label, (rate, p50, p99) in (("sync", sync_rate), ("async", async_rate)):
        print(f"CreateUser c=8, {label:<5} replication: {rate:7.0f} calls/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
    print(f"sync/async write rate = {sync_rate[0] / async_rate[0]:.2f}")
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
