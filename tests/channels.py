"""How every test opens a channel to the cluster: TLS with the cluster's CA and the client certificate of its
data folder (plaintext only for a cluster up with --insecure); `open_channel(cluster, target)` sends an admin's
token by default (so a test about something else is not refused), `token=` another identity, `token=None` none."""
from __future__ import annotations

import functools
import pathlib
from typing import Any

import grpc

from shared import channels
from shared.auth.client import with_token
from shared.auth.tokens import user_token

ADMIN_ID = 1  # an operator's token: no such user needs to exist, an admin is bound to no data
SESSION_TTL_S = 12 * 3600  # outlives any test session
_ADMIN: Any = object()


@functools.cache
def admin_token(auth_dir: pathlib.Path) -> str:
    return user_token(auth_dir, ADMIN_ID, "ADMIN", ttl_s=SESSION_TTL_S)


def token_for(cluster: Any, user_id: int, role: str, region: str = "") -> str:
    """A token of user `user_id` with `role`, minted from the cluster's signing key."""
    return user_token(cluster.layout.auth_dir, user_id, role, region, ttl_s=SESSION_TTL_S)


def open_channel(cluster: Any, target: str, *, token: str | None = _ADMIN) -> grpc.Channel:
    if token is _ADMIN:
        token = admin_token(cluster.layout.auth_dir)
    bearer = token
    channel = channels.open_channel(target, cluster.layout.client_tls())
    return with_token(channel, (lambda: bearer) if bearer is not None else None)


def code_of(call: Any) -> grpc.StatusCode:
    """The status code `call()` ends with (OK when it returns)."""
    try:
        call()
    except grpc.RpcError as exc:
        code: grpc.StatusCode = exc.code()
        return code
    return grpc.StatusCode.OK
