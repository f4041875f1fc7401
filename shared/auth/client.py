"""The client side: a channel interceptor that sends `authorization: Bearer <token>` on every unary call.

A token source is called per call, so a service's own identity token is minted again before it expires.
(Call credentials would need TLS; metadata works on both kinds of channel.)
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import grpc

TokenSource = Callable[[], str]


class _Details(NamedTuple):
    method: str
    timeout: float | None
    metadata: Any
    credentials: Any
    wait_for_ready: Any
    compression: Any


class BearerToken(grpc.UnaryUnaryClientInterceptor):
    def __init__(self, source: TokenSource):
        self.source = source

    def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        metadata = [(k, v) for k, v in (client_call_details.metadata or ()) if k != "authorization"]
        metadata.append(("authorization", f"Bearer {self.source()}"))
        details = _Details(client_call_details.method, client_call_details.timeout, metadata,
                           client_call_details.credentials, client_call_details.wait_for_ready,
                           client_call_details.compression)
        return continuation(details, request)


def with_token(channel: grpc.Channel, source: TokenSource | None) -> grpc.Channel:
    """`channel` sending the token of `source` on every call; unchanged when there is no source."""
    return channel if source is None else grpc.intercept_channel(channel, BearerToken(source))


def token_source(token: str | None) -> TokenSource | None:
    """A fixed token as a source (a CLI's --token); None when there is no token."""
    if not token:
        return None
    return lambda: token
