"""A generic gRPC handler that routes each call by region and forwards the serialized request unchanged.

It passes metadata and the remaining deadline downstream, retries only what is safe (reads, and creates
that carry a request_id) and only on UNAVAILABLE, returns the backend's status with its rich details
intact, and adds the region and shard it chose as trailing metadata (x-region, x-shard) on every response.
"""
from __future__ import annotations

import logging
import time
from typing import cast

import grpc

from gateway.backends import Backends
from gateway.catalog import split_method
from gateway.readiness import READY_WAIT_S
from gateway.routing import ANY, MethodRouter, Target
from shared import cpu_slots, request_ids
from shared.auth import client_address
from shared.auth.client import TokenSource
from shared.errors import COMMIT_UNCONFIRMED, DomainError
from shared.grpc_errors import Status, error_reason, leaks, to_status
from shared.telemetry.client import calls as client_calls

log = logging.getLogger(__name__)

Metadata = tuple[tuple[str, str | bytes], ...]

DEFAULT_TIMEOUT_S = 10.0
BACKOFF_S = (0.05, 0.15)  # waits before the 2nd and 3rd attempts
# Metadata that describes the incoming connection, not the call, and must not be forwarded (the trace
# context names the caller's span: the backend's parent is the gateway's own, sent with each attempt).
HOP_BY_HOP = {"user-agent", "grpc-accept-encoding", "grpc-encoding", "grpc-timeout", "te", "content-type",
              "traceparent", "tracestate"}
# Not forwarded as sent: the hop-by-hop keys, and what the gateway says itself: the request ID and the
# client's address with the gateway's own token as proof (whatever a client sent under those names is dropped).
NOT_FORWARDED = frozenset(HOP_BY_HOP | {request_ids.HEADER, client_address.ADDRESS_HEADER,
                                        client_address.PROOF_HEADER})


def is_read(method: str) -> bool:
    name = split_method(method)[1]
    return name.startswith(("Get", "List"))


def route_metadata(target: Target | None, region_header: str | None = None) -> tuple[tuple[str, str], ...]:
    if target is None:
        return (("x-region", (region_header or ANY).strip()), ("x-shard", ANY))
    return target.trailers


class Forwarder(grpc.GenericRpcHandler):
    def __init__(self, router: MethodRouter, backends: Backends, default_timeout_s: float = DEFAULT_TIMEOUT_S,
                 identity: TokenSource | None = None):
        self.router = router
        self.backends = backends
        self.identity = identity  # the gateway's own token, proof of the client address it forwards
        self.default_timeout_s = default_timeout_s

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler[bytes, bytes] | None:
        method = handler_call_details.method
        if not self.router.knows(method):
            return None  # UNIMPLEMENTED, as a server without the method would answer
        return grpc.unary_unary_rpc_method_handler(lambda request, context: self._forward(method, request, context))

    def _forward(self, method: str, request: bytes, context: grpc.ServicerContext) -> bytes:
        # One pass over the caller's metadata (every call): what to forward, and the first x-region.
        forwarded: list[tuple[str, str | bytes]] = []
        region_header = None
        for key, value in context.invocation_metadata():
            if key in NOT_FORWARDED:
                continue
            if key == "x-region" and region_header is None and isinstance(value, str):
                region_header = value
            forwarded.append((key, value))
        # The backend logs and answers under the request ID this gateway's own errors carry.
        forwarded.append((request_ids.HEADER, request_ids.current()))
        if self.identity:
            forwarded.extend(client_address.gateway_headers(context.peer() or "", self.identity()))
        metadata = tuple(forwarded)
        try:
            target = self.router.target(method, request, region_header)
        except DomainError as exc:
            status = to_status(exc, domain="elearning.gateway")
            context.abort_with_status(Status(status.code, status.details, (
                *status.trailing_metadata, *route_metadata(None, region_header))))
        remaining = context.time_remaining()
        timeout = remaining if remaining is not None and remaining < 1e6 else self.default_timeout_s
        deadline = time.monotonic() + timeout
        call = self.backends.callable(target.address, method)
        # Not yet sent, so safe for any method: a channel that is reconnecting gets a moment to be READY (a READY
        # one, nearly every call, costs a flag read: the CPU slot is given back only to wait).
        if not self.backends.ready(target.address):
            with cpu_slots.released():
                self.backends.wait_ready(target.address, min(READY_WAIT_S, deadline - time.monotonic()))
        observed = client_calls(method, target.address)
        attempt = 0
        while True:
            try:
                with observed.attempt() as trace_context, cpu_slots.released():  # others run while it waits
                    response, outcome = call.with_call(request, timeout=max(deadline - time.monotonic(), 0.001),
                                                       metadata=(*metadata, *trace_context))
                break
            except grpc.RpcError as err:
                if self._should_retry(err, method, request, attempt, deadline):
                    time.sleep(BACKOFF_S[attempt])
                    attempt += 1
                    continue
                trailers = cast(Metadata, err.trailing_metadata() or ())  # the stubs' _Metadatum is a pair
                context.abort_with_status(Status(err.code(), self._public_details(err, method), (
                    *trailers, *route_metadata(target))))
        context.set_trailing_metadata((*(outcome.trailing_metadata() or ()), *target.trailers))
        return response

    @staticmethod
    def _public_details(err: grpc.RpcError, method: str) -> str:
        """The backend's message, unless it is the channel's own (a transport failure names the backend's
        address): that goes to the log, and the caller learns only that the service could not be reached."""
        details = err.details() or ""
        if not leaks(details):
            return details
        log.warning("backend call failed", extra={"method": method, "code": err.code().name, "detail": details})
        return "the service of this method could not be reached in time; retry later"

    def _should_retry(self, err: grpc.RpcError, method: str, request: bytes, attempt: int, deadline: float) -> bool:
        if err.code() != grpc.StatusCode.UNAVAILABLE or attempt >= len(BACKOFF_S):
            return False
        if deadline - time.monotonic() <= BACKOFF_S[attempt]:
            return False
        if error_reason(err) == COMMIT_UNCONFIRMED:
            return False  # the write may exist; its caller decides when to retry
        return is_read(method) or self.router.has_request_id(method, request)

