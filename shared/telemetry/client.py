"""Client-side telemetry of calls this process makes (gateway to backend, service to service): metrics
per method, callee and code, a client span, and the traceparent that carries the trace to the callee."""
from __future__ import annotations

import contextlib
import time
from types import TracebackType
from typing import Any

import grpc
from opentelemetry.trace import Span

from shared.telemetry import tracing
from shared.telemetry.metrics import CLIENT_HANDLED, CLIENT_SECONDS, CLIENT_STARTED
from shared.telemetry.step import split_method


class ClientCall:
    """The metric children of one (method, backend), bound once; `attempt()` observes one call."""

    def __init__(self, method: str, backend: str) -> None:
        self.span_name = method.lstrip("/")
        self.service, self.name = split_method(method)
        self.backend = backend
        self.started = CLIENT_STARTED.labels(self.service, self.name, "unary", backend)
        self._by_code: dict[grpc.StatusCode, tuple[Any, Any]] = {}

    def _record(self, code: grpc.StatusCode, seconds: float) -> None:
        bound = self._by_code.get(code)
        if bound is None:
            labels = (self.service, self.name, "unary", self.backend, code.name)
            bound = self._by_code.setdefault(code, (CLIENT_HANDLED.labels(*labels), CLIENT_SECONDS.labels(*labels)))
        bound[0].inc()
        bound[1].observe(seconds)

    def attempt(self) -> _Attempt:
        """Around one call: yields the metadata to add (traceparent); a grpc.RpcError is recorded and re-raised."""
        return _Attempt(self)


class _Attempt:
    """One observed call. A class, not a generator context manager: every forwarded call enters one, and in
    the 99 % of calls not sampled it makes no span at all (the caller's trace context is passed on as is)."""

    __slots__ = ("_call", "_begin", "_scope", "_span")

    def __init__(self, call: ClientCall) -> None:
        self._call = call
        self._begin = 0.0
        self._scope: contextlib.AbstractContextManager[Span] | None = None
        self._span: Span | None = None

    def __enter__(self) -> tuple[tuple[str, str], ...]:
        self._call.started.inc()
        if tracing.recording():
            self._scope = tracing.client_span(self._call.span_name)
            self._span = self._scope.__enter__()
        self._begin = time.perf_counter()
        return tracing.outgoing()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        seconds = time.perf_counter() - self._begin
        code = grpc.StatusCode.OK
        if isinstance(exc, grpc.RpcError):
            code = exc.code() if callable(getattr(exc, "code", None)) else grpc.StatusCode.UNKNOWN
        self._call._record(code, seconds)  # noqa: SLF001 - the two halves of one observation
        scope, span = self._scope, self._span
        if scope is not None and span is not None:
            self._scope = self._span = None
            if span.is_recording():
                span.set_attribute("rpc.grpc.status_code", code.value[0])
                span.set_attribute("elearn.backend", self._call.backend)
            scope.__exit__(kind, exc, traceback)


class ClientCalls:
    """ClientCall per (method, backend), created on first use."""

    def __init__(self) -> None:
        self._calls: dict[tuple[str, str], ClientCall] = {}

    def __call__(self, method: str, backend: str) -> ClientCall:
        key = (method, backend)
        call = self._calls.get(key)
        if call is None:
            call = self._calls.setdefault(key, ClientCall(method, backend))
        return call


calls = ClientCalls()
