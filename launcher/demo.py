"""The main job of `make demo` until the load driver lands: through the gateway, create a few users in
every region, read each back by ID and by email, and print where each one lives."""
from __future__ import annotations

import argparse
import sys
import uuid

import grpc

from elearning.common.v1 import common_pb2
from elearning.users.v1 import users_service_pb2 as pb
from elearning.users.v1 import users_service_pb2_grpc as pb_grpc
from shared import ids
from shared.settings import DEFAULT_SHARDS

SHARD_BY_NUMBER = {number: name for name, number, _regions in DEFAULT_SHARDS}


def run(gateway: str, per_region: int) -> int:
    run_tag = uuid.uuid4().hex[:8]
    failures = 0
    with grpc.insecure_channel(gateway) as channel:
        users = pb_grpc.UserServiceStub(channel)
        print(f"{'region':<14} {'id':>20}  {'shard':<5} email")
        for region in common_pb2.Region.keys()[1:]:
            for i in range(per_region):
                email = f"demo-{run_tag}-{region.lower()}-{i}@example.com"
                try:
                    created = users.CreateUser(pb.CreateUserRequest(
                        user=pb.User(email=email, full_name=f"Demo {region.title()} {i}",
                                     region=common_pb2.Region.Value(region)),
                        request_id=f"demo-{run_tag}-{region}-{i}"), timeout=10)
                    by_id = users.GetUser(pb.GetUserRequest(id=created.id), timeout=5)
                    by_email = users.GetUserByEmail(pb.GetUserByEmailRequest(email=email), timeout=5)
                except grpc.RpcError as exc:
                    failures += 1
                    print(f"{region:<14} FAILED {exc.code().name}: {exc.details()}")
                    continue
                if not (by_id.id == by_email.id == created.id):
                    failures += 1
                    print(f"{region:<14} MISMATCH reading back {created.id}")
                    continue
                shard = SHARD_BY_NUMBER.get(ids.decode(created.id).shard_number, "?")
                print(f"{region:<14} {created.id:>20}  {shard:<5} {email}")
    print(f"demo: {'all users created and read back' if not failures else f'{failures} failure(s)'}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gateway", default="127.0.0.1:50051")
    parser.add_argument("--per-region", type=int, default=3)
    args = parser.parse_args(argv)
    return run(args.gateway, args.per_region)


if __name__ == "__main__":
    sys.exit(main())
