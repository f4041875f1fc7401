"""Signing in through the gateway: Login, RefreshToken, Logout and ExchangeToken on the real cluster; refresh
tokens stored hashed and revoked exactly once under concurrent use; failed sign-ins answered alike and limited;
a key rotation keeps earlier tokens valid; a caller header never names the caller."""
from __future__ import annotations

import hashlib
import json

import grpc
import jwt
import pytest

from elearning.users.v1 import users_service_pb2 as pb
from shared.auth import keys
from shared.auth.tokens import Signer
from tests.channels import code_of, open_channel
from tests.integration.races import tally, together
from tests.integration.users_client import new_user, stub

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def anonymous(cluster):
    with open_channel(cluster, cluster.gateway, token=None) as channel:
        yield stub(channel)


@pytest.fixture(scope="module")
def account(anonymous):
    """A student who signed up anonymously, with a password."""
    return anonymous.CreateUser(pb.CreateUserRequest(user=new_user("EUROPE"), password=PASSWORD), timeout=20)


def as_user(cluster, token: str):
    return open_channel(cluster, cluster.gateway, token=token)


def test_login_gives_a_token_for_ones_own_account_only(cluster, anonymous, account):
    session = anonymous.Login(pb.LoginRequest(email=account.email.upper(), password=PASSWORD), timeout=20)
    assert session.user_id == account.id and session.refresh_token.startswith(f"{account.id}.")
    claims = jwt.decode(session.access_token, options={"verify_signature": False})
    assert (claims["sub"], claims["role"], claims["region"]) == (str(account.id), "STUDENT", "EUROPE")
    with as_user(cluster, session.access_token) as channel:
        assert stub(channel).GetUser(pb.GetUserRequest(id=account.id), timeout=5).email == account.email
        assert code_of(lambda: stub(channel).GetUser(pb.GetUserRequest(id=account.id + 1), timeout=5)) == \
            grpc.StatusCode.PERMISSION_DENIED
        assert code_of(lambda: stub(channel).ListUsers(pb.ListUsersRequest(region=account.region), timeout=5)) == \
            grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as caught:
        anonymous.GetUser(pb.GetUserRequest(id=account.id), timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(anonymous, account):
    answers = []
    for email, password in ((account.email, "wrong password!"), ("nobody-at-all@example.com", PASSWORD)):
        with pytest.raises(grpc.RpcError) as caught:
            anonymous.Login(pb.LoginRequest(email=email, password=password), timeout=20)
        answers.append((caught.value.code(), caught.value.details()))
    assert answers[0] == answers[1] and answers[0][0] == grpc.StatusCode.UNAUTHENTICATED


@pytest.fixture(scope="module")
def one_users_instance(cluster):
    """One users process, not the balanced service: the failed sign-in count is that process's."""
    with open_channel(cluster, cluster.service("users"), token=None) as channel:
        yield stub(channel)


def _five_failures_then_the_right_password(users) -> grpc.StatusCode:
    email = new_user().email
    victim = users.CreateUser(pb.CreateUserRequest(user=new_user("ASIA", email=email), password=PASSWORD),
                              timeout=20)
    codes = [code_of(lambda: users.Login(pb.LoginRequest(email=victim.email, password="guess-1234"), timeout=20))
             for _ in range(5)]
    assert codes == [grpc.StatusCode.UNAUTHENTICATED] * 5
    return code_of(lambda: users.Login(pb.LoginRequest(email=victim.email, password=PASSWORD), timeout=20))


@pytest.mark.slow
def test_failed_logins_are_limited_per_account_even_with_the_right_password(one_users_instance):
    assert _five_failures_then_the_right_password(one_users_instance) == grpc.StatusCode.RESOURCE_EXHAUSTED


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="known gap: failed sign-ins are counted per users process, so through the "
                   "gateway, which balances over two instances, an account gets 5 tries per instance; the count "
                   "belongs in the database")
def test_failed_logins_are_limited_per_account_across_every_users_instance(anonymous):
    assert _five_failures_then_the_right_password(anonymous) == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_refresh_tokens_are_stored_hashed_rotated_and_revoked_by_logout(cluster, anonymous, account):
    session = anonymous.Login(pb.LoginRequest(email=account.email, password=PASSWORD), timeout=20)
    rows = cluster.query("eu", "primary", "SELECT token_hash, revoked_at FROM refresh_tokens WHERE user_id = %s",
                         (account.id,))
    assert hashlib.sha256(session.refresh_token.encode()).digest() in {bytes(r[0]) for r in rows}
    assert not any(session.refresh_token.encode() in bytes(r[0]) for r in rows)
    renewed = anonymous.RefreshToken(pb.RefreshTokenRequest(refresh_token=session.refresh_token), timeout=10)
    assert renewed.user_id == account.id and renewed.refresh_token != session.refresh_token
    assert code_of(lambda: anonymous.RefreshToken(pb.RefreshTokenRequest(refresh_token=session.refresh_token),
                                                  timeout=10)) == grpc.StatusCode.UNAUTHENTICATED
    anonymous.Logout(pb.LogoutRequest(refresh_token=renewed.refresh_token), timeout=10)
    for bad in (renewed.refresh_token, "", "garbage", f"{account.id}.forged", "1.x"):
        assert code_of(lambda: anonymous.RefreshToken(pb.RefreshTokenRequest(refresh_token=bad), timeout=10)) == \
            grpc.StatusCode.UNAUTHENTICATED, bad


@pytest.mark.slow
def test_one_refresh_token_used_by_twenty_callers_at_once_is_honoured_once(cluster, anonymous, account):
    for _ in range(3):
        session = anonymous.Login(pb.LoginRequest(email=account.email, password=PASSWORD), timeout=20)
        request = pb.RefreshTokenRequest(refresh_token=session.refresh_token)
        counts = tally(together([lambda: anonymous.RefreshToken(request, timeout=20)] * 20))
        assert counts == {"OK": 1, "UNAUTHENTICATED": 19}, counts
    live = cluster.query("eu", "primary", "SELECT count(*) FROM refresh_tokens WHERE user_id = %s AND "
                                          "revoked_at IS NULL", (account.id,))
    assert live[0][0] >= 3


def test_exchange_token_is_reserved_to_the_sso_identity(cluster, anonymous, account):
    request = pb.ExchangeTokenRequest(email=account.email)
    assert code_of(lambda: anonymous.ExchangeToken(request, timeout=10)) == grpc.StatusCode.UNAUTHENTICATED
    with open_channel(cluster, cluster.gateway) as admin:
        assert code_of(lambda: stub(admin).ExchangeToken(request, timeout=10)) == grpc.StatusCode.PERMISSION_DENIED
    sso = Signer(cluster.layout.auth_dir, keys.service_signer("sso")).mint("service:sso", "SERVICE").token
    with open_channel(cluster, cluster.gateway, token=sso) as channel:
        assert stub(channel).ExchangeToken(request, timeout=10).user_id == account.id


def test_a_forged_caller_header_does_not_make_anyone_an_admin(cluster, anonymous, account):
    forged = (("x-user-id", "1"), ("x-role", "ADMIN"), ("x-caller", "admin"), ("x-caller-id", "1"))
    assert code_of(lambda: anonymous.ListUsers(pb.ListUsersRequest(region=account.region), timeout=5,
                                               metadata=forged)) == grpc.StatusCode.UNAUTHENTICATED
    for bad in ("Bearer", "Basic abc", "Bearer not.a.token"):
        with open_channel(cluster, cluster.gateway, token=None) as channel:
            assert code_of(lambda: stub(channel).GetJwks(pb.GetJwksRequest(), timeout=5, metadata=(
                ("authorization", bad),))) == grpc.StatusCode.UNAUTHENTICATED, bad


@pytest.mark.slow
def test_rotation_keeps_earlier_tokens_valid_and_new_logins_use_the_new_kid(cluster, anonymous, account):
    before = anonymous.Login(pb.LoginRequest(email=account.email, password=PASSWORD), timeout=20).access_token
    new_kid = keys.new_key(cluster.layout.auth_dir, keys.PEOPLE)
    after = anonymous.Login(pb.LoginRequest(email=account.email, password=PASSWORD), timeout=20).access_token
    assert jwt.get_unverified_header(after)["kid"] == new_kid != jwt.get_unverified_header(before)["kid"]
    published = {k["kid"] for k in json.loads(anonymous.GetJwks(pb.GetJwksRequest(), timeout=5).jwks_json)["keys"]}
    assert {new_kid, jwt.get_unverified_header(before)["kid"]} <= published
    for token in (before, after):
        for target in (cluster.gateway, cluster.service("users")):
            with open_channel(cluster, target, token=token) as channel:
                assert stub(channel).GetUser(pb.GetUserRequest(id=account.id), timeout=5).id == account.id
