"""Client-side telemetry of calls this process makes (gateway to backend, service to service): metrics
per method, callee and code, a client span, and the traceparent that carries the trace to the callee."""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import grpc

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

    @contextlib.contextmanager
    def attempt(self) -> Iterator[tuple[tuple[str, str], ...]]:
        """Around one call: yields the metadata to add (traceparent); a grpc.RpcError is recorded and re-raised."""
        self.started.inc()
        begin = time.perf_counter()
        code = grpc.StatusCode.OK
        with tracing.client_span(self.span_name) as span:
            try:
                yield tracing.outgoing()
            except grpc.RpcError as exc:
                code = exc.code() if callable(getattr(exc, "code", None)) else grpc.StatusCode.UNKNOWN
                raise
            finally:
                self._record(code, time.perf_counter() - begin)
                if span.is_recording():
                    span.set_attribute("rpc.grpc.status_code", code.value[0])
                    span.set_attribute("elearn.backend", self.backend)


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
