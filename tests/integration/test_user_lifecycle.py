"""Users through their whole life: idempotent create, read-your-write, list pages, update, delete."""
from __future__ import annotations

import uuid

import grpc
import pytest

from elearning.common.v1 import common_pb2
from elearning.users.v1 import users_service_pb2 as pb
from tests.integration.users_client import field_violations, new_user, stub, unique_email


def test_create_is_idempotent_by_request_id(cluster, gateway_channel):
    users = stub(gateway_channel)
    request = pb.CreateUserRequest(user=new_user("SOUTH_AMERICA"), request_id=str(uuid.uuid4()))
    first = users.CreateUser(request, timeout=10)
    again = users.CreateUser(request, timeout=10)
    assert again == first
    assert cluster.query("na", "primary", "SELECT count(*) FROM users WHERE email = %s", (first.email,)) == [(1,)]
    changed = pb.CreateUserRequest(user=new_user("SOUTH_AMERICA"), request_id=request.request_id)
    with pytest.raises(grpc.RpcError) as caught:
        users.CreateUser(changed, timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "request_id" in field_violations(caught.value)


def test_create_then_read_by_id_and_email_sees_the_write(gateway_channel):
    users = stub(gateway_channel)
    for _ in range(10):
        created = users.CreateUser(pb.CreateUserRequest(user=new_user("AFRICA")), timeout=10)
        assert users.GetUser(pb.GetUserRequest(id=created.id), timeout=5) == created
        assert users.GetUserByEmail(pb.GetUserByEmailRequest(email=f"  {created.email.upper()} "),
                                    timeout=5).id == created.id


def test_list_pages_through_one_region_with_no_gap_or_duplicate(cluster, gateway_channel):
    users = stub(gateway_channel)
    made = {users.CreateUser(pb.CreateUserRequest(user=new_user("OCEANIA")), timeout=10).id for _ in range(7)}
    seen, token, pages = [], "", 0
    while True:
        page = users.ListUsers(pb.ListUsersRequest(region=common_pb2.REGION_OCEANIA, page_size=3, page_token=token),
                               timeout=5)
        seen += [u.id for u in page.users]
        assert all(u.region == common_pb2.REGION_OCEANIA for u in page.users)
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) and seen == sorted(seen)
    assert made <= set(seen)
    assert pages >= 3
    with pytest.raises(grpc.RpcError) as caught:
        users.ListUsers(pb.ListUsersRequest(region=common_pb2.REGION_ASIA, page_size=3, page_token=token or "e30"),
                        timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_update_email_moves_the_directory_entry_and_frees_the_old_email(cluster, gateway_channel):
    users = stub(gateway_channel)
    user = users.CreateUser(pb.CreateUserRequest(user=new_user("EUROPE")), timeout=10)
    old_email, new_email = user.email, unique_email("moved")
    request = pb.UpdateUserRequest(user=pb.User(id=user.id, email=new_email, full_name="Renamed"),
                                   update_mask={"paths": ["email", "full_name"]})
    updated = users.UpdateUser(request, timeout=10)
    assert (updated.email, updated.full_name) == (new_email, "Renamed")
    assert users.GetUserByEmail(pb.GetUserByEmailRequest(email=new_email), timeout=5).id == user.id
    with pytest.raises(grpc.RpcError) as caught:
        users.GetUserByEmail(pb.GetUserByEmailRequest(email=old_email), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    reuse = users.CreateUser(pb.CreateUserRequest(user=new_user("ASIA", email=old_email)), timeout=10)
    assert reuse.email == old_email


def test_update_profile_field_and_password(cluster, gateway_channel):
    users = stub(gateway_channel)
    user = users.CreateUser(pb.CreateUserRequest(user=new_user("ASIA")), timeout=10)
    request = pb.UpdateUserRequest(user=pb.User(id=user.id, profile=pb.UserProfile(bio="Teaches Go")),
                                   update_mask={"paths": ["profile.bio", "password"]}, password="long enough pw")
    updated = users.UpdateUser(request, timeout=10)
    assert updated.profile.bio == "Teaches Go" and updated.has_password
    short = pb.UpdateUserRequest(user=pb.User(id=user.id), update_mask={"paths": ["password"]}, password="short")
    with pytest.raises(grpc.RpcError) as caught:
        users.UpdateUser(short, timeout=10)
    assert "password" in field_violations(caught.value)


def test_delete_removes_the_user_and_its_email(cluster, gateway_channel):
    users = stub(gateway_channel)
    user = users.CreateUser(pb.CreateUserRequest(user=new_user("NORTH_AMERICA")), timeout=10)
    users.DeleteUser(pb.DeleteUserRequest(id=user.id), timeout=10)
    for call, request in ((users.GetUser, pb.GetUserRequest(id=user.id)),
                          (users.DeleteUser, pb.DeleteUserRequest(id=user.id)),
                          (users.GetUserByEmail, pb.GetUserByEmailRequest(email=user.email))):
        with pytest.raises(grpc.RpcError) as caught:
            call(request, timeout=5)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    for shard in ("na", "eu", "apac"):
        assert cluster.query(shard, "primary", "SELECT count(*) FROM email_directory WHERE user_id = %s",
                             (user.id,)) == [(0,)]
