"""A generic gRPC handler that forwards serialized requests to a backend, passing metadata, the remaining
deadline, the response's trailing metadata and any error status with its rich details through unchanged."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Mapping

import grpc

from gateway.catalog import PUBLIC_SERVICES, split_method

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
# Metadata that describes the incoming connection, not the call, and must not be forwarded.
HOP_BY_HOP = {"user-agent", "grpc-accept-encoding", "grpc-encoding", "grpc-timeout", "te", "content-type"}


@dataclass(frozen=True)
class ForwardedStatus(grpc.Status):
    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple


class Forwarder(grpc.GenericRpcHandler):
    def __init__(self, backends: Mapping[str, str], default_timeout_s: float = DEFAULT_TIMEOUT_S):
        self._channels = {key: grpc.insecure_channel(address) for key, address in backends.items()}
        self._default_timeout_s = default_timeout_s

    def service(self, handler_call_details):
        service, _ = split_method(handler_call_details.method)
        backend = PUBLIC_SERVICES.get(service)
        if backend is None or backend not in self._channels:
            return None  # UNIMPLEMENTED, as a server without the service would answer
        method = handler_call_details.method
        channel = self._channels[backend]
        return grpc.unary_unary_rpc_method_handler(
            lambda request, context: self._forward(channel, method, request, context))

    def _forward(self, channel: grpc.Channel, method: str, request: bytes, context: grpc.ServicerContext) -> bytes:
        remaining = context.time_remaining()
        timeout = remaining if remaining is not None and remaining < 1e6 else self._default_timeout_s
        metadata = [(k, v) for k, v in context.invocation_metadata() if k not in HOP_BY_HOP]
        try:
            response, call = channel.unary_unary(method).with_call(request, timeout=timeout, metadata=metadata)
        except grpc.RpcError as err:
            context.abort_with_status(ForwardedStatus(err.code(), err.details() or "",
                                                      tuple(err.trailing_metadata() or ())))
        context.set_trailing_metadata(tuple(call.trailing_metadata() or ()))
        return response

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
