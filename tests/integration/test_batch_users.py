"""BatchCreateUsers on the real cluster, through the gateway: validation before any write, the users on their
home shards and the email directory on the emails' hash shards, per-item results, replays, concurrent batches
that share emails."""
from __future__ import annotations

import uuid

import grpc
import pytest
from google.rpc import code_pb2

from elearning.common.v1 import common_pb2
from elearning.users.v1 import users_service_pb2 as pb
from elearning.users.v1 import users_service_pb2_grpc as pb_grpc
from shared.pg import lsn
from shared.proto_values import region_value
from tests.integration.races import together
from tests.integration.users_client import field_violations

REGIONS = ("EUROPE", "ASIA", "NORTH_AMERICA", "AFRICA", "OCEANIA", "SOUTH_AMERICA")
SHARDS = ("na", "eu", "apac")
USERS = "SELECT count(*) FROM users WHERE email = ANY(%s)"
DIRECTORY = "SELECT count(*) FROM email_directory WHERE email = ANY(%s)"


def stub(channel) -> pb_grpc.UserServiceStub:
    return pb_grpc.UserServiceStub(channel)


def item(email: str, region: str, password: str = "") -> pb.CreateUserRequest:
    return pb.CreateUserRequest(user=pb.User(email=email, full_name="Batch Student",
                                             region=region_value(region)), password=password)


def emails(n: int) -> list[str]:
    tag = uuid.uuid4().hex[:10]
    return [f"batch-{tag}-{i}@example.com" for i in range(n)]


def counted(cluster, addresses: list[str]) -> tuple[int, int]:
    return (sum(cluster.query(s, "primary", USERS, (addresses,))[0][0] for s in SHARDS),
            sum(cluster.query(s, "primary", DIRECTORY, (addresses,))[0][0] for s in SHARDS))


def test_one_invalid_item_rejects_the_whole_batch_and_writes_nothing(cluster, gateway_channel):
    addresses = emails(20)
    items = [item(e, REGIONS[i % 6]) for i, e in enumerate(addresses)]
    items[17] = item("not-an-email", "EUROPE")
    items[4] = item(addresses[2], "ASIA")
    with pytest.raises(grpc.RpcError) as caught:
        stub(gateway_channel).BatchCreateUsers(pb.BatchCreateUsersRequest(requests=items), timeout=20)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(caught.value)) == {"requests[17].user.email", "requests[4].user.email"}
    assert counted(cluster, addresses) == (0, 0)


def test_a_batch_over_every_shard_with_a_taken_email_and_its_replay(cluster, gateway_channel):
    addresses = emails(30)
    taken = stub(gateway_channel).CreateUser(pb.CreateUserRequest(user=pb.User(
        email=addresses[7], full_name="First", region=common_pb2.REGION_EUROPE)), timeout=10)
    items = [item(e, REGIONS[i % 6], password="correct horse" if i < 2 else "") for i, e in enumerate(addresses)]
    request = pb.BatchCreateUsersRequest(requests=items, request_id=str(uuid.uuid4()))
    response, call = stub(gateway_channel).BatchCreateUsers.with_call(request, timeout=60)
    codes = [r.status.code for r in response.results]
    assert codes == [code_pb2.OK] * 7 + [code_pb2.ALREADY_EXISTS] + [code_pb2.OK] * 22
    for sent, result in zip(items, response.results, strict=False):
        if result.status.code == code_pb2.OK:
            assert (result.user.email, result.user.region) == (sent.user.email, sent.user.region)
            home = cluster.settings().shard_map.for_id(result.user.id).name
            assert cluster.query(home, "primary", "SELECT email FROM users WHERE id = %s",
                                 (result.user.id,)) == [(sent.user.email,)]
    assert [r.user.has_password for r in response.results[:3]] == [True, True, False]
    assert counted(cluster, addresses) == (30, 30)  # 29 new users and the one that had the email
    assert set(lsn.parse_token(dict(call.trailing_metadata())["x-min-lsn"])) == set(SHARDS)
    again = stub(gateway_channel).BatchCreateUsers(request, timeout=60)
    assert again == response
    assert counted(cluster, addresses) == (30, 30)
    assert stub(gateway_channel).GetUserByEmail(pb.GetUserByEmailRequest(email=addresses[7]),
                                                timeout=10).id == taken.id


@pytest.mark.slow
def test_concurrent_batches_sharing_emails_create_each_email_once(cluster, gateway_channel):
    """12 batches at once, each the same 40 emails in its own order and regions: every email is created by
    exactly one batch, its user row and its directory entry agree, no batch fails."""
    addresses = emails(40)
    batches = []
    for n in range(12):
        order = addresses[n:] + addresses[:n]
        batches.append(pb.BatchCreateUsersRequest(requests=[item(e, REGIONS[(i + n) % 6])
                                                            for i, e in enumerate(order)]))
    outcomes = together([lambda b=b: stub(gateway_channel).BatchCreateUsers(b, timeout=60) for b in batches])
    assert all(o.code == "OK" for o in outcomes), [o.details for o in outcomes if o.code != "OK"]
    created = [r.user.email for o in outcomes for r in o.value.results if r.status.code == code_pb2.OK]
    assert sorted(created) == sorted(addresses)
    assert counted(cluster, addresses) == (40, 40)
    directory = {row for s in SHARDS for row in cluster.query(
        s, "primary", "SELECT email, user_id FROM email_directory WHERE email = ANY(%s)", (addresses,))}
    users = {row for s in SHARDS for row in cluster.query(
        s, "primary", "SELECT email, id FROM users WHERE email = ANY(%s)", (addresses,))}
    assert directory == users
