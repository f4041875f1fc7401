"""The base of this project's server interceptors: wrap each unary method's behaviour once, then reuse it.

A subclass says how to wrap one behaviour (`wrap(behavior, method)`); the wrapped handler of a method never
changes, so it is built on the method's first call, not on every call.
"""
from __future__ import annotations

from typing import Callable

import grpc

Behavior = Callable[[object, grpc.ServicerContext], object]


class UnaryWrapInterceptor(grpc.ServerInterceptor):
    def __init__(self):
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    def wrap(self, behavior: Behavior, method: str) -> Behavior:
        raise NotImplementedError

    def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is None:
            handler = continuation(handler_call_details)
            if handler is None or handler.unary_unary is None:
                return handler
            wrapped = grpc.unary_unary_rpc_method_handler(
                self.wrap(handler.unary_unary, method), request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
            self._wrapped[method] = wrapped
        return wrapped
