"""Logout ends the session: its access tokens are refused by the gateway and by every service, directly too,
within the revocation delay (one poll of the ended sessions), while the person's other sessions go on."""
from __future__ import annotations

import time

import grpc
import jwt
import pytest

from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.courses.v1 import courses_service_pb2_grpc as courses_grpc
from elearning.users.v1 import users_service_pb2 as pb
from services.users.sessions import ENDED_CACHE_S
from shared.settings import Settings
from tests.channels import code_of, open_channel
from tests.integration.users_client import new_user, stub

PASSWORD = "correct horse battery"
# A poll, the users service's cache of the list, the poll's own call at its deadline, and slack for a machine
# under load.
DELAY_BOUND_S = 2 * Settings.revocation_poll_s + ENDED_CACHE_S + Settings.call_timeout_s + 5


def _targets(cluster):
    return [("gateway", cluster.gateway, "users"), ("users 1", cluster.service("users", 0), "users"),
            ("users 2", cluster.service("users", 1), "users"), ("courses", cluster.service("courses"), "courses")]


def _call(channel, service: str, user_id: int):
    if service == "users":
        return lambda: stub(channel).GetUser(pb.GetUserRequest(id=user_id), timeout=10)
    return lambda: courses_grpc.CourseServiceStub(channel).ListCategories(courses_pb.ListCategoriesRequest(),
                                                                          timeout=10)


def _codes(cluster, token: str, user_id: int) -> dict[str, grpc.StatusCode]:
    codes = {}
    for label, target, service in _targets(cluster):
        with open_channel(cluster, target, token=token) as channel:
            codes[label] = code_of(_call(channel, service, user_id))
    return codes


@pytest.mark.slow
def test_logout_ends_the_sessions_access_tokens_everywhere_within_the_revocation_delay(cluster):
    with open_channel(cluster, cluster.gateway, token=None) as channel:
        anonymous = stub(channel)
        account = anonymous.CreateUser(pb.CreateUserRequest(user=new_user("ASIA"), password=PASSWORD), timeout=20)
        ended = anonymous.Login(pb.LoginRequest(email=account.email, password=PASSWORD), timeout=30)
        renewed = anonymous.RefreshToken(pb.RefreshTokenRequest(refresh_token=ended.refresh_token), timeout=10)
        other = anonymous.Login(pb.LoginRequest(email=account.email, password=PASSWORD), timeout=30)
        sid = jwt.decode(ended.access_token, options={"verify_signature": False})["sid"]
        assert jwt.decode(renewed.access_token, options={"verify_signature": False})["sid"] == sid
        assert jwt.decode(other.access_token, options={"verify_signature": False})["sid"] != sid
        ok = grpc.StatusCode.OK
        assert set(_codes(cluster, ended.access_token, account.id).values()) == {ok}
        anonymous.Logout(pb.LogoutRequest(refresh_token=renewed.refresh_token), timeout=10)
    signed_out = time.monotonic()
    assert cluster.query("apac", "primary", "SELECT user_id FROM revoked_sessions WHERE session_id = %s",
                         (sid,)) == [(account.id,)]
    refused: dict[str, float] = {}
    while len(refused) < 2 * len(_targets(cluster)) and time.monotonic() - signed_out < DELAY_BOUND_S + 5:
        for name, token in (("first", ended.access_token), ("renewed", renewed.access_token)):
            for label, code in _codes(cluster, token, account.id).items():
                if code == grpc.StatusCode.UNAUTHENTICATED:
                    refused.setdefault(f"{name} at {label}", time.monotonic() - signed_out)
        time.sleep(0.2)
    assert len(refused) == 2 * len(_targets(cluster)), refused
    assert max(refused.values()) <= DELAY_BOUND_S, refused
    assert set(_codes(cluster, other.access_token, account.id).values()) == {grpc.StatusCode.OK}
