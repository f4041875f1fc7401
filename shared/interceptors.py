"""The base of this project's server interceptors: wrap each unary method's behaviour once, then reuse it.

A subclass says how to wrap one behaviour (`wrap(behavior, method)`); the wrapped handler of a method never
changes, so it is built on the method's first call, not on every call.

The request is parsed inside the wrapped behaviour, not by grpcio: grpcio answers a request its deserializer
cannot parse with INTERNAL "Exception deserializing request!", while here undecodable bytes (truncated,
invalid UTF-8) and text no store can hold (NUL characters) are INVALID_ARGUMENT naming the field.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf.message import DecodeError, Message

from shared import validation
from shared.errors import InvalidArgument

Behavior = Callable[[Any, grpc.ServicerContext], Any]
Deserializer = Callable[[bytes], Message]
if TYPE_CHECKING:  # subscriptable in the type stubs only
    Handler = grpc.RpcMethodHandler[Any, Any]
Continuation = Callable[[grpc.HandlerCallDetails], "Handler | None"]


def parsing(behavior: Behavior, deserializer: Deserializer) -> Behavior:
    """`behavior` taking the raw request bytes: parsed here, with every text field checked for NUL."""
    def parsed(request: bytes, context: grpc.ServicerContext) -> Any:
        try:
            message = deserializer(request)
        except (DecodeError, ValueError, TypeError):
            raise InvalidArgument("request", "is not a valid serialized request message (truncated, or text "
                                             "that is not UTF-8)") from None
        validation.no_nul_anywhere(message)
        return behavior(message, context)

    return parsed


class UnaryWrapInterceptor(grpc.ServerInterceptor):
    def __init__(self) -> None:
        self._wrapped: dict[str, Handler] = {}

    def wrap(self, behavior: Behavior, method: str) -> Behavior:
        raise NotImplementedError

    def intercept_service(self, continuation: Continuation,
                          handler_call_details: grpc.HandlerCallDetails) -> Handler | None:
        method = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is None:
            handler = continuation(handler_call_details)
            if handler is None or handler.unary_unary is None:
                return handler
            behavior = handler.unary_unary
            if handler.request_deserializer is not None:  # the innermost wrapper: parse inside every wrapper
                behavior = parsing(behavior, handler.request_deserializer)
            wrapped = grpc.unary_unary_rpc_method_handler(
                self.wrap(behavior, method), request_deserializer=None,
                response_serializer=handler.response_serializer)
            self._wrapped[method] = wrapped
        return wrapped


class FoldedSteps(UnaryWrapInterceptor):
    """Several steps as one interceptor: grpcio runs every interceptor's `intercept_service` for every call, on
    its one polling thread, before the call reaches a worker; folded, the steps' wrappers are composed once per
    method (the first step outermost, as the list declares them) and each call passes one lookup."""

    def __init__(self, steps: list[UnaryWrapInterceptor]) -> None:
        super().__init__()
        self.steps = tuple(steps)

    def wrap(self, behavior: Behavior, method: str) -> Behavior:
        for step in reversed(self.steps):
            behavior = step.wrap(behavior, method)
        return behavior


def folded(steps: list[grpc.ServerInterceptor]) -> list[grpc.ServerInterceptor]:
    """`steps` in the same order, each run of plain wrap steps (those that do not choose their methods by
    overriding `intercept_service`) folded into one `FoldedSteps`."""
    out: list[grpc.ServerInterceptor] = []
    run: list[UnaryWrapInterceptor] = []

    def flush() -> None:
        if len(run) > 1:
            out.append(FoldedSteps(run[:]))
        else:
            out.extend(run)
        run.clear()

    for step in steps:
        if isinstance(step, UnaryWrapInterceptor) and \
                type(step).intercept_service is UnaryWrapInterceptor.intercept_service:
            run.append(step)
        else:
            flush()
            out.append(step)
    flush()
    return out
