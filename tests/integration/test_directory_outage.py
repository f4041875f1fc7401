"""Sign-ups while the email directory's shard has no leader (its primary node killed, until Patroni promotes
the replica): a sign-up whose email's directory entry lives on that shard is refused UNAVAILABLE with reason
EMAIL_DIRECTORY_UNAVAILABLE naming the shard, quickly once the hold window has passed, and creates nothing; a
sign-up of the same region whose email hashes to another shard succeeds throughout."""
from __future__ import annotations

import statistics
import time

import grpc
import pytest

from elearning.users.v1 import users_service_pb2 as pb
from tests.integration.test_failover import SHARD_MAP, whole_again
from tests.integration.users_client import error_info, new_user, stub, unique_email

pytestmark = pytest.mark.slow

DEADLINE_S = 3.0
WATCH_S = 14.0  # longer than the 10 s hold window, shorter than Patroni's 20 s ttl


def email_on(shard: str, wanted: bool) -> str:
    while True:
        email = unique_email("dir")
        if (SHARD_MAP.for_key(email).name == shard) == wanted:
            return email


def test_sign_ups_needing_a_leaderless_directory_shard_are_refused_with_a_clear_reason(cluster, gateway_channel):
    whole_again(cluster, "eu")
    users = stub(gateway_channel)
    refused: list[tuple[float, float, str]] = []  # (seconds since the kill, seconds taken, reason)
    others_failed: list[str] = []
    others_ok = 0
    cluster.cluster.nodes.kill_node("eu", "primary")
    killed = time.monotonic()
    while time.monotonic() - killed < WATCH_S:
        email = email_on("eu", True)
        began = time.monotonic()
        try:
            users.CreateUser(pb.CreateUserRequest(user=new_user("NORTH_AMERICA", email=email)), timeout=DEADLINE_S)
            break  # eu has a leader again already: nothing more to observe
        except grpc.RpcError as exc:
            info = error_info(exc)
            refused.append((began - killed, time.monotonic() - began,
                            f"{exc.code().name} {info.reason if info else ''} {exc.details()}"))
            assert not cluster.query("na", "primary", "SELECT 1 FROM users WHERE email = %s", (email,))
        try:
            users.CreateUser(pb.CreateUserRequest(user=new_user("NORTH_AMERICA", email=email_on("eu", False))),
                             timeout=DEADLINE_S)
            others_ok += 1
        except grpc.RpcError as exc:
            others_failed.append(exc.code().name)
    whole_again(cluster, "eu")
    late = [taken for since, taken, _ in refused if since > 11.0]
    print(f"\ndirectory shard eu without a leader: {len(refused)} sign-ups refused; taken: first "
          f"{refused[0][1] if refused else 0:.2f} s, after the hold window median "
          f"{statistics.median(late) if late else float('nan'):.3f} s over {len(late)}; other sign-ups "
          f"{others_ok} OK, {len(others_failed)} failed")
    assert refused, "no sign-up was refused: the directory shard never lost its leader"
    for _since, _taken, what in refused:
        assert what.startswith("UNAVAILABLE EMAIL_DIRECTORY_UNAVAILABLE") and "shard eu" in what, what
    assert others_failed == [] and others_ok > 0
