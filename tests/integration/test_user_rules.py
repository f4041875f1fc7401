"""Bad input over gRPC gets the right status and field, and writes nothing on any shard."""
from __future__ import annotations

import grpc
import pytest

from elearning.users.v1 import users_service_pb2 as pb
from tests.integration.users_client import error_info, field_violations, new_user, stub, unique_email

SHARDS = ("na", "eu", "apac")


def row_counts(cluster) -> dict[str, tuple]:
    return {s: cluster.query(s, "primary", "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM "
                                            "email_directory), (SELECT count(*) FROM user_profiles)")[0]
            for s in SHARDS}


BAD_CREATES = {
    "blank name": (dict(full_name="   "), "", "user.full_name"),
    "name too long": (dict(full_name="x" * 201), "", "user.full_name"),
    "malformed email": (dict(email="not-an-email"), "", "user.email"),
    "unknown region": (dict(region=0), "", "user.region"),
    "out-of-range region": (dict(region=42), "", "user.region"),
    "short password": ({}, "short", "password"),
}


@pytest.mark.parametrize("case", sorted(BAD_CREATES))
def test_bad_create_is_invalid_argument_naming_the_field_and_writes_nothing(cluster, gateway_channel, case):
    overrides, password, field = BAD_CREATES[case]
    user = new_user("EUROPE")
    for key, value in overrides.items():
        setattr(user, key, value)
    before = row_counts(cluster)
    with pytest.raises(grpc.RpcError) as caught:
        stub(gateway_channel).CreateUser(pb.CreateUserRequest(user=user, password=password), timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(caught.value)
    assert row_counts(cluster) == before


def test_duplicate_email_in_another_region_is_already_exists_and_writes_nothing(cluster, gateway_channel):
    users = stub(gateway_channel)
    email = unique_email("dup")
    users.CreateUser(pb.CreateUserRequest(user=new_user("NORTH_AMERICA", email=email)), timeout=10)
    before = row_counts(cluster)
    with pytest.raises(grpc.RpcError) as caught:
        users.CreateUser(pb.CreateUserRequest(user=new_user("ASIA", email=email.upper())), timeout=10)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error_info(caught.value).metadata["field"] == "email"
    assert row_counts(cluster) == before


def test_malformed_ids_and_missing_users(gateway_channel):
    users = stub(gateway_channel)
    with pytest.raises(grpc.RpcError) as caught:
        users.GetUser(pb.GetUserRequest(id=1), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "id" in field_violations(caught.value)
    with pytest.raises(grpc.RpcError) as caught:
        users.GetUserByEmail(pb.GetUserByEmailRequest(email=unique_email("nobody")), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_update_with_a_bad_mask_or_value_changes_nothing(cluster, gateway_channel):
    users = stub(gateway_channel)
    user = users.CreateUser(pb.CreateUserRequest(user=new_user("EUROPE", full_name="Before")), timeout=10)
    for mask, change, field in ((["nickname"], {}, "update_mask"), (["full_name"], {"full_name": " "},
                                                                     "user.full_name"),
                                (["email"], {"email": "bad@"}, "user.email"), (["region"], {}, "update_mask")):
        request = pb.UpdateUserRequest(user=pb.User(id=user.id, **change))
        request.update_mask.paths.extend(mask)
        with pytest.raises(grpc.RpcError) as caught:
            users.UpdateUser(request, timeout=10)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, mask
        assert field in field_violations(caught.value), (mask, field_violations(caught.value))
    assert cluster.query("eu", "primary", "SELECT full_name, email FROM users WHERE id = %s", (user.id,)) == [
        ("Before", user.email)]
