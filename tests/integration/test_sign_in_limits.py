"""Failed sign-ins counted in the database: one count per account across every users process, exact under
concurrent guesses, on the account's home shard; the window expires; a success clears the count; the caller's
count is kept under the client's address, which the gateway forwards and nobody else can set."""
from __future__ import annotations

import grpc
import pytest

from elearning.users.v1 import users_service_pb2 as pb
from services.users.throttle import PER_ACCOUNT
from shared.auth import keys
from shared.auth.client_address import ADDRESS_HEADER, PROOF_HEADER
from shared.auth.tokens import Signer, user_token
from tests.channels import code_of, open_channel
from tests.integration.races import tally, together
from tests.integration.users_client import new_user, stub

PASSWORD = "correct horse battery"
HOME = {"EUROPE": "eu", "ASIA": "apac", "NORTH_AMERICA": "na"}
LOCAL = "ipv4:127.0.0.1"  # the address every test client calls from


@pytest.fixture(scope="module")
def anonymous(cluster):
    with open_channel(cluster, cluster.gateway, token=None) as channel:
        yield stub(channel)


def _account(users, region: str = "EUROPE") -> pb.User:
    return users.CreateUser(pb.CreateUserRequest(user=new_user(region), password=PASSWORD), timeout=20)


def _attempts(cluster, shard: str, email: str) -> list[tuple]:
    return cluster.query(shard, "primary", "SELECT attempts FROM sign_in_attempts WHERE scope = 'account' AND "
                                           "key = %s", (email,))


def _login(users, email: str, password: str):
    return lambda: users.Login(pb.LoginRequest(email=email, password=password), timeout=60)


@pytest.mark.slow
@pytest.mark.parametrize("region,guessers", [("EUROPE", 30), ("ASIA", 20)])
def test_concurrent_wrong_passwords_on_both_instances_check_exactly_the_limit(cluster, anonymous, region, guessers):
    """Half the guesses to each users process directly, half through the gateway: one count in the database."""
    victim = _account(anonymous, region)
    with open_channel(cluster, cluster.service("users", 0), token=None) as first, \
            open_channel(cluster, cluster.service("users", 1), token=None) as second:
        targets = [anonymous, stub(first), stub(second)]
        outcomes = together([_login(targets[i % 3], victim.email, f"guess-{i:04d}") for i in range(guessers)])
    counts = tally(outcomes)
    # The checked guesses hash a password each (scrypt), at once: on a loaded machine one may outlive its deadline,
    # but it was admitted all the same; the refused ones are exactly those past the limit.
    assert counts.pop("RESOURCE_EXHAUSTED") == guessers - PER_ACCOUNT, counts
    assert set(counts) <= {"UNAUTHENTICATED", "DEADLINE_EXCEEDED"} and sum(counts.values()) == PER_ACCOUNT, counts
    assert _attempts(cluster, HOME[region], victim.email) == [(guessers,)]
    assert code_of(_login(anonymous, victim.email, PASSWORD)) == grpc.StatusCode.RESOURCE_EXHAUSTED


@pytest.mark.slow
def test_the_window_expires_and_a_success_clears_the_count(cluster, anonymous):
    victim = _account(anonymous, "NORTH_AMERICA")
    for _ in range(PER_ACCOUNT - 1):
        assert code_of(_login(anonymous, victim.email, "wrong-guess")) == grpc.StatusCode.UNAUTHENTICATED
    assert _login(anonymous, victim.email, PASSWORD)().user_id == victim.id
    assert _attempts(cluster, "na", victim.email) == []
    for _ in range(PER_ACCOUNT):
        assert code_of(_login(anonymous, victim.email, "wrong-guess")) == grpc.StatusCode.UNAUTHENTICATED
    assert code_of(_login(anonymous, victim.email, PASSWORD)) == grpc.StatusCode.RESOURCE_EXHAUSTED
    cluster.execute("na", "UPDATE sign_in_attempts SET window_start = window_start - interval '301 seconds' "
                          "WHERE scope = 'account' AND key = %s", (victim.email,))
    assert _login(anonymous, victim.email, PASSWORD)().user_id == victim.id


def test_an_email_without_an_account_is_counted_alike_on_its_directory_shard(cluster, anonymous):
    email = new_user().email
    assert code_of(_login(anonymous, email, "wrong-guess")) == grpc.StatusCode.UNAUTHENTICATED
    counted = {shard: _attempts(cluster, shard, email) for shard in HOME.values()}
    assert sorted(counted.values()) == [[], [], [(1,)]], counted


def _caller_attempts(cluster, address: str) -> int:
    return sum(row[0] for shard in HOME.values() for row in cluster.query(
        shard, "primary", "SELECT attempts FROM sign_in_attempts WHERE scope = 'caller' AND key = %s", (address,)))


def _token(cluster, service: str) -> str:
    return Signer(cluster.layout.auth_dir, keys.service_signer(service)).mint(f"service:{service}", "SERVICE").token


def _failed_from(users, forwarded: str, proof: str | None) -> None:
    metadata = ((ADDRESS_HEADER, forwarded), *(((PROOF_HEADER, proof),) if proof else ()))
    assert code_of(lambda: users.Login(pb.LoginRequest(email=new_user().email, password="wrong-guess"),
                                       timeout=30, metadata=metadata)) == grpc.StatusCode.UNAUTHENTICATED


def test_a_users_process_believes_the_forwarded_address_only_from_the_gateway(cluster):
    student = user_token(cluster.layout.auth_dir, 1, "STUDENT")
    with open_channel(cluster, cluster.service("users", 1), token=None) as channel:
        users = stub(channel)
        _failed_from(users, "203.0.113.7", _token(cluster, "gateway"))
        assert _caller_attempts(cluster, "203.0.113.7") == 1
        for forged in (None, "not-a-token", student, _token(cluster, "sso"), _token(cluster, "courses")):
            _failed_from(users, "198.51.100.9", forged)
        assert _caller_attempts(cluster, "198.51.100.9") == 0


def test_the_gateway_forwards_the_clients_own_address_and_drops_a_forged_one(cluster, anonymous):
    before = _caller_attempts(cluster, LOCAL)
    _failed_from(anonymous, "198.51.100.10", _token(cluster, "sso"))
    _failed_from(anonymous, "198.51.100.10", None)
    assert _caller_attempts(cluster, "198.51.100.10") == 0
    assert _caller_attempts(cluster, LOCAL) == before + 2
