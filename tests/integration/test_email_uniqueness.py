"""Email is unique across all shards, even when two regions create the same email at the same moment."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import grpc

from elearning.users.v1 import users_service_pb2 as pb
from tests.integration.users_client import new_user, stub, unique_email

SHARDS = ("na", "eu", "apac")


def test_concurrent_creates_of_one_email_in_two_regions_have_one_winner(cluster, gateway_channel):
    began = cluster.now()
    users = stub(gateway_channel)
    emails = [unique_email("race") for _ in range(12)]
    regions = ("EUROPE", "ASIA", "NORTH_AMERICA")
    start = threading.Barrier(len(emails) * 2)

    def create(email: str, region: str):
        start.wait()
        try:
            return users.CreateUser(pb.CreateUserRequest(user=new_user(region, email=email)), timeout=20).id
        except grpc.RpcError as exc:
            return exc.code()

    with ThreadPoolExecutor(max_workers=len(emails) * 2) as pool:
        futures = {(email, i): pool.submit(create, email, regions[(n + i) % 3])
                   for n, email in enumerate(emails) for i in range(2)}
    for email in emails:
        outcomes = [futures[(email, i)].result() for i in range(2)]
        winners = [o for o in outcomes if isinstance(o, int)]
        assert len(winners) == 1, (email, outcomes)
        assert grpc.StatusCode.ALREADY_EXISTS in outcomes, (email, outcomes)
        stored = sum(cluster.query(s, "primary", "SELECT count(*) FROM users WHERE email = %s", (email,))[0][0]
                     for s in SHARDS)
        directory = [r for s in SHARDS for r in
                     cluster.query(s, "primary", "SELECT user_id FROM email_directory WHERE email = %s", (email,))]
        assert stored == 1 and directory == [(winners[0],)]
    assert cluster.prepared_since(began) == {shard: 0 for shard in SHARDS}
