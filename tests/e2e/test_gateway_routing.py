"""Calls through the gateway land on the shard of their region, say so in trailers, and fail cleanly."""
from __future__ import annotations

import time
import uuid

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from elearning.users.v1 import users_service_pb2 as pb
from elearning.users.v1 import users_service_pb2_grpc as pb_grpc
from shared.proto_values import region_value
from tests.channels import admin_token, open_channel
from tests.e2e.grpcurl import grpcurl
from tests.e2e.processes import ServerProcess, free_port, topology_with_routes

USERS = "elearning.users.v1.UserService"
SHARD_OF = {"NORTH_AMERICA": "na", "SOUTH_AMERICA": "na", "EUROPE": "eu", "AFRICA": "eu", "ASIA": "apac",
            "OCEANIA": "apac"}


def new_user(region: str) -> pb.User:
    return pb.User(email=f"route-{uuid.uuid4().hex[:12]}@example.com", full_name="Routed",
                   region=region_value(region))


@pytest.mark.parametrize("region", sorted(SHARD_OF))
def test_each_region_lands_on_its_shard_and_the_trailers_say_so(cluster, gateway_channel, region):
    users = pb_grpc.UserServiceStub(gateway_channel)
    user, call = users.CreateUser.with_call(pb.CreateUserRequest(user=new_user(region)), timeout=10)
    shard = SHARD_OF[region]
    trailers = dict(call.trailing_metadata())
    assert (trailers["x-region"], trailers["x-shard"]) == (region, shard)
    assert cluster.query(shard, "primary", "SELECT region FROM users WHERE id = %s", (user.id,)) == [(region,)]
    _, call = users.GetUser.with_call(pb.GetUserRequest(id=user.id), timeout=5)
    assert dict(call.trailing_metadata())["x-shard"] == shard


def test_grpcurl_sees_the_route_trailers_and_a_bad_region_header(cluster):
    created = grpcurl(cluster.gateway, f"{USERS}/CreateUser", flags=("-v",), tls=cluster.tls, data={
        "user": {"email": f"curl-{uuid.uuid4().hex[:10]}@example.com", "full_name": "C", "region": "REGION_AFRICA"}})
    assert created.returncode == 0, created.stderr
    assert "x-region: AFRICA" in created.stdout and "x-shard: eu" in created.stdout
    rejected = grpcurl(cluster.gateway, f"{USERS}/GetUser", data={"id": "1"}, tls=cluster.tls, flags=(
        "-H", "x-region: MARS", "-H", f"authorization: Bearer {admin_token(cluster.layout.auth_dir)}"))
    assert "Code: InvalidArgument" in rejected.stderr and "x-region" in rejected.stderr


@pytest.fixture(scope="module")
def regional(cluster):
    """A gateway whose users calls for EUROPE go to a backend of their own, ASIA to the cluster's, and
    no other region has a users backend."""
    spare = ServerProcess("services.users.main", free_port(), cluster.env, USERS).start()
    env = topology_with_routes(cluster, {"users": {"EUROPE": spare.address, "ASIA": cluster.service("users")}})
    gateway = ServerProcess("gateway.main", free_port(), env).start()
    channel = open_channel(cluster, gateway.address)
    yield spare, pb_grpc.UserServiceStub(channel), health_pb2_grpc.HealthStub(channel)
    channel.close()
    gateway.stop()
    spare.stop()


def users_health(health) -> str:
    reply = health.Check(health_pb2.HealthCheckRequest(service=USERS), timeout=2)
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


def wait_for(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def create_ok(users, region: str) -> bool:
    try:
        users.CreateUser(pb.CreateUserRequest(user=new_user(region)), timeout=5)
        return True
    except grpc.RpcError:
        return False


def test_a_region_with_no_backend_is_unavailable_naming_the_region(regional):
    _spare, users, _health = regional
    with pytest.raises(grpc.RpcError) as caught:
        users.CreateUser(pb.CreateUserRequest(user=new_user("NORTH_AMERICA")), timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "NORTH_AMERICA" in caught.value.details()


def test_a_dead_backend_fails_fast_its_region_only_and_comes_back(regional):
    spare, users, health = regional
    assert create_ok(users, "EUROPE") and users_health(health) == "SERVING"
    spare.kill()
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as caught:
        users.GetUser(pb.GetUserRequest(id=0), timeout=5, metadata=(("x-region", "EUROPE"),))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert time.monotonic() - started < 1.5, "a dead backend must fail fast, not wait for the deadline"
    assert create_ok(users, "ASIA"), "other regions keep working"
    assert wait_for(lambda: users_health(health) == "NOT_SERVING", 5)
    spare.start()
    assert wait_for(lambda: create_ok(users, "EUROPE"), 10), "the gateway did not use the backend again"
    assert wait_for(lambda: users_health(health) == "SERVING", 5)
