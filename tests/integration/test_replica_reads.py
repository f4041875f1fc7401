"""Reads on the real cluster: the session token (x-min-lsn), STRONG and BOUNDED reads, a replica that lags
past the limits or is down, each observed through the gateway and its x-served-by trailer."""
from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time

import grpc
import pytest

from elearning.common.v1 import common_pb2
from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.courses.v1 import courses_service_pb2_grpc as courses_grpc
from elearning.users.v1 import users_service_pb2 as pb
from shared.pg import lsn
from tests.integration.users_client import field_violations, new_user, stub

pytestmark = pytest.mark.usefixtures("cluster")


def create_eu_user(channel) -> tuple[pb.User, dict]:
    user, call = stub(channel).CreateUser.with_call(pb.CreateUserRequest(user=new_user("EUROPE")), timeout=10)
    return user, dict(call.trailing_metadata())


def get_user(channel, user_id: int, *metadata: tuple[str, str]) -> tuple[pb.User, dict]:
    user, call = stub(channel).GetUser.with_call(pb.GetUserRequest(id=user_id), metadata=metadata, timeout=10)
    return user, dict(call.trailing_metadata())


def list_eu_users(channel, *metadata: tuple[str, str]) -> tuple[set[int], dict]:
    """Every EUROPE user, page by page (other tests of the session may have made thousands), and the trailers
    of the last page, whose x-served-by reads "mixed" unless every page came from the same node."""
    ids: set[int] = set()
    served: set[str] = set()
    token = ""
    for _ in range(100):
        page, call = stub(channel).ListUsers.with_call(
            pb.ListUsersRequest(region=common_pb2.REGION_EUROPE, page_size=1000, page_token=token), metadata=metadata,
            timeout=10)
        ids.update(u.id for u in page.users)
        trailers = dict(call.trailing_metadata())
        served.add(trailers.get("x-served-by", ""))
        token = page.next_page_token
        if not token:
            break
    if len(served) > 1:
        trailers["x-served-by"] = "mixed"
    return ids, trailers


@contextlib.contextmanager
def replay_paused(cluster, shard: str = "eu"):
    """Replay paused on the shard's replica: it keeps receiving WAL (sync commits still return) but shows
    nothing new. Patroni resumes a paused replay at its next loop unless the shard is in maintenance mode."""
    cluster.cluster.nodes.set_maintenance(shard, True)
    cluster.query(shard, "replica", "SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        cluster.query(shard, "replica", "SELECT pg_wal_replay_resume()")
        cluster.cluster.nodes.set_maintenance(shard, False)


def wait_for(condition, seconds: float, step: float = 0.1):
    give_up = time.monotonic() + seconds
    while True:
        found = condition()
        if found or time.monotonic() > give_up:
            return found
        time.sleep(step)


def test_a_write_answers_with_the_shard_and_commit_position(gateway_channel, cluster):
    _user, trailers = create_eu_user(gateway_channel)
    token = lsn.parse_token(trailers["x-min-lsn"])
    assert "eu" in token  # and the shard that holds the email's directory entry, when it is another one
    for shard, position in token.items():
        (reached,) = cluster.query(shard, "primary", "SELECT pg_current_wal_insert_lsn() >= %s::pg_lsn",
                                   (lsn.format_lsn(position),))[0]
        assert reached


def test_with_replay_paused_create_then_get_is_served_by_the_primary(gateway_channel, cluster):
    with replay_paused(cluster):
        user, trailers = create_eu_user(gateway_channel)
        found, read_trailers = get_user(gateway_channel, user.id, ("x-min-lsn", trailers["x-min-lsn"]))
        assert found.email == user.email
        assert read_trailers["x-served-by"] == "eu:primary"
        assert not cluster.query("eu", "replica", "SELECT 1 FROM users WHERE id = %s", (user.id,))
        # A list without the token is served by the (paused) replica and does not show the user yet.
        ids, list_trailers = list_eu_users(gateway_channel)
        assert list_trailers["x-served-by"] == "eu:replica" and user.id not in ids
        # With the token, the same list comes from the primary and shows it.
        ids, list_trailers = list_eu_users(gateway_channel, ("x-min-lsn", trailers["x-min-lsn"]))
        assert list_trailers["x-served-by"] == "eu:primary" and user.id in ids


def test_a_caught_up_replica_serves_the_session_read(gateway_channel):
    user, trailers = create_eu_user(gateway_channel)
    served = set()
    for _ in range(20):
        found, read_trailers = get_user(gateway_channel, user.id, ("x-min-lsn", trailers["x-min-lsn"]))
        assert found.id == user.id
        served.add(read_trailers["x-served-by"])
        if "eu:replica" in served:
            break
        time.sleep(0.05)
    assert "eu:replica" in served
    assert read_trailers["x-min-lsn"] == trailers["x-min-lsn"]  # a read hands the token back unchanged


def test_strong_reads_the_primary_and_bounded_takes_the_replica_within_the_bound(gateway_channel):
    user, _ = create_eu_user(gateway_channel)
    assert get_user(gateway_channel, user.id, ("x-consistency", "strong"))[1]["x-served-by"] == "eu:primary"
    bounded = ("x-consistency", "bounded")
    assert wait_for(lambda: get_user(gateway_channel, user.id, bounded, ("x-max-staleness-ms", "60000"))[1]
                    ["x-served-by"] == "eu:replica", 5)
    # No measurement is zero milliseconds old, so a bound of zero always reads the primary.
    assert get_user(gateway_channel, user.id, bounded, ("x-max-staleness-ms", "0"))[1]["x-served-by"] == "eu:primary"


def test_fan_out_reads_report_every_shard(gateway_channel):
    channel = courses_grpc.CourseServiceStub(gateway_channel)
    _page, call = channel.ListCourses.with_call(courses_pb.ListCoursesRequest(page_size=5),
                                               metadata=(("x-consistency", "strong"),), timeout=10)
    assert dict(call.trailing_metadata())["x-served-by"] == "apac:primary,eu:primary,na:primary"


@pytest.mark.parametrize("metadata, field", [
    ((("x-consistency", "eventual"),), "x-consistency"),
    ((("x-consistency", "bounded"),), "x-max-staleness-ms"),
    ((("x-min-lsn", "eu:not-an-lsn"),), "x-min-lsn"),
])
def test_bad_consistency_metadata_is_invalid_argument(gateway_channel, metadata, field):
    with pytest.raises(grpc.RpcError) as caught:
        stub(gateway_channel).GetUser(pb.GetUserRequest(id=1), metadata=metadata, timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(caught.value)


def status_of(cluster) -> dict:
    result = subprocess.run([sys.executable, "-m", "launcher.cli", "status", "--json", "--data-dir",
                             str(cluster.layout.data_dir)], capture_output=True, text=True, timeout=60)
    return {row["component"]: row for row in json.loads(result.stdout)}


def test_a_replica_over_the_lag_limit_gets_no_reads_until_it_catches_up(gateway_channel, cluster):
    before, _ = create_eu_user(gateway_channel)
    with replay_paused(cluster):
        create_eu_user(gateway_channel)  # WAL the replica receives but does not replay
        # The services' limit is 2 s (ReplicaLimits.max_lag_ms): then even reads without a token move off.
        assert wait_for(lambda: list_eu_users(gateway_channel)[1]["x-served-by"] == "eu:primary", 10)
        row = status_of(cluster)["postgres eu replica"]
        assert row["replay_paused"] and row["lag_bytes"] > 0 and not row["serves_reads"]
        assert "no reads" in row["health"]
        assert get_user(gateway_channel, before.id)[1]["x-served-by"] == "eu:primary"
    assert wait_for(lambda: list_eu_users(gateway_channel)[1]["x-served-by"] == "eu:replica", 10)
    assert status_of(cluster)["postgres eu replica"]["serves_reads"]


def test_with_the_replica_stopped_reads_still_succeed_from_the_primary(gateway_channel, cluster):
    user, _ = create_eu_user(gateway_channel)
    node = cluster.cluster.stop_node("eu", "replica")
    try:
        for _ in range(3):
            found, trailers = get_user(gateway_channel, user.id)
            assert found.id == user.id and trailers["x-served-by"] == "eu:primary"
            ids, trailers = list_eu_users(gateway_channel)
            assert user.id in ids and trailers["x-served-by"] == "eu:primary"
    finally:
        cluster.cluster.start_node("eu", node)
    assert wait_for(lambda: list_eu_users(gateway_channel)[1]["x-served-by"] == "eu:replica", 10)
