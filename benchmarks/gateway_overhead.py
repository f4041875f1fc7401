"""The gateway's overhead: the same call (GetUser, a replica read) direct to the users service and through
the gateway, at concurrency 1 and 32, in one run; prints rates, p50/p99 and the ratios.

Usage: python -m benchmarks.gateway_overhead --gateway 127.0.0.1:50051 --direct 127.0.0.1:50061 [--seconds 5]
(`make bench-gateway` boots a local cluster for it and stops it afterwards.)
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid

from benchmarks.measure import Figures, drive
from elearning.common.v1 import common_pb2
from elearning.users.v1 import users_service_pb2 as pb
from elearning.users.v1 import users_service_pb2_grpc as pb_grpc
from shared.channels import open_aio_channel, open_channel
from shared.settings import TlsSettings, read_topology, tls_settings


def seed_users(address: str, count: int, tls: TlsSettings | None) -> list[int]:
    regions = [r for r in common_pb2.Region.values() if r]
    tag = uuid.uuid4().hex[:8]
    with open_channel(address, tls) as channel:
        stub = pb_grpc.UserServiceStub(channel)
        return [stub.CreateUser(pb.CreateUserRequest(
            user=pb.User(email=f"bench-{tag}-{i}@example.com", full_name=f"Bench {i}", region=regions[i % 6]),
            request_id=f"bench-{tag}-{i}"), timeout=10).id for i in range(count)]


async def measure(address: str, label: str, ids: list[int], concurrency: int, seconds: float,
                  tls: TlsSettings | None) -> Figures:
    async with open_aio_channel(address, tls) as channel:
        stub = pb_grpc.UserServiceStub(channel)

        async def call(i: int):
            return await stub.GetUser(pb.GetUserRequest(id=ids[i % len(ids)]), timeout=5)

        return await drive(label, call, concurrency, seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gateway", default="127.0.0.1:50051")
    parser.add_argument("--direct", default="127.0.0.1:50061", help="the users service itself")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    tls = tls_settings("client", read_topology(os.environ), os.environ)  # the cluster's $ELEARN_CONFIG
    ids = seed_users(args.gateway, 60, tls)
    print(f"GetUser over {len(ids)} users, {args.seconds:.0f} s per run after a 1 s warm-up")
    ratios = []
    for concurrency in (1, 32):
        direct = asyncio.run(measure(args.direct, "direct to users service", ids, concurrency, args.seconds, tls))
        via = asyncio.run(measure(args.gateway, "through the gateway", ids, concurrency, args.seconds, tls))
        print(direct.line())
        print(via.line())
        ratios.append((concurrency, via.rate / direct.rate, via.p50_ms / direct.p50_ms, via.p99_ms / direct.p99_ms))
    for concurrency, rate, p50, p99 in ratios:
        print(f"gateway/direct at c={concurrency}: throughput x{rate:.2f}, p50 latency x{p50:.2f}, "
              f"p99 latency x{p99:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
