"""The telemetry step of the server pipeline: per call, the gRPC metrics, a server span joined to the
caller's trace, and an access log line. Everything per method is bound once, on the method's first call."""
from __future__ import annotations

import time
from typing import Any

import grpc

from shared import request_ids
from shared.interceptors import Behavior, UnaryWrapInterceptor
from shared.telemetry import tracing
from shared.telemetry.access_log import AccessLog
from shared.telemetry.metrics import SERVER_HANDLED, SERVER_SECONDS, SERVER_STARTED, SHED


def _code_of(context: grpc.ServicerContext) -> grpc.StatusCode | None:
    """The code the handler set or aborted with (ServicerContext.code(), missing from grpc's type stubs)."""
    code: grpc.StatusCode | None = context.code()  # type: ignore[attr-defined]
    return code


def split_method(method: str) -> tuple[str, str]:
    """"/pkg.Service/Method" → ("pkg.Service", "Method")."""
    service, _, name = method.lstrip("/").rpartition("/")
    return service, name


class _Outcomes:
    """The metric children of one method, per status code, bound on first use."""

    def __init__(self, method: str) -> None:
        self.service, self.name = split_method(method)
        self.started = SERVER_STARTED.labels(self.service, self.name, "unary")
        self._by_code: dict[grpc.StatusCode, tuple[Any, Any]] = {}

    def record(self, code: grpc.StatusCode, seconds: float) -> None:
        bound = self._by_code.get(code)
        if bound is None:
            labels = (self.service, self.name, "unary", code.name)
            bound = self._by_code.setdefault(code, (SERVER_HANDLED.labels(*labels), SERVER_SECONDS.labels(*labels)))
        bound[0].inc()
        bound[1].observe(seconds)


# Probes (health every second from the gateway and the launcher, reflection) and every process's poll of the
# ended sessions (shared.auth.revocations) are counted, neither traced nor logged.
UNTRACED = ("/grpc.health.v1.Health/", "/grpc.reflection.", "/elearning.users.v1.UserService/ListRevokedSessions")


def _counted(behavior: Behavior, outcomes: _Outcomes) -> Behavior:
    def counted(request: object, context: grpc.ServicerContext) -> object:
        outcomes.started.inc()
        begin = time.perf_counter()
        code = grpc.StatusCode.UNKNOWN
        try:
            response = behavior(request, context)
            code = _code_of(context) or grpc.StatusCode.OK
            return response
        except BaseException:
            code = _code_of(context) or grpc.StatusCode.UNKNOWN  # UNKNOWN: an exception grpc maps itself
            raise
        finally:
            outcomes.record(code, time.perf_counter() - begin)

    return counted


class TelemetryStep(UnaryWrapInterceptor):
    def __init__(self, access_log: AccessLog) -> None:
        super().__init__()
        self.access_log = access_log

    def wrap(self, behavior: Behavior, method: str) -> Behavior:
        outcomes = _Outcomes(method)
        if method.startswith(UNTRACED):
            return _counted(behavior, outcomes)
        span_name = method.lstrip("/")
        access_log = self.access_log

        # One flat function, no context managers or closures per call: this runs on every call of the process.
        def observed(request: object, context: grpc.ServicerContext) -> object:
            outcomes.started.inc()
            begin = time.perf_counter()
            request_id, id_token = request_ids.enter(context)
            span, span_token = tracing.start_server_span(span_name, context.invocation_metadata())
            code = grpc.StatusCode.UNKNOWN
            try:
                response = behavior(request, context)
                code = _code_of(context) or grpc.StatusCode.OK
                return response
            except BaseException:
                code = _code_of(context) or grpc.StatusCode.UNKNOWN  # UNKNOWN: an exception grpc maps itself
                raise
            finally:
                try:
                    seconds = time.perf_counter() - begin
                    outcomes.record(code, seconds)
                    if span.is_recording():
                        span.set_attribute("rpc.grpc.status_code", code.value[0])
                        span.set_attribute("elearn.request_id", request_id)
                    if access_log.admits(code is grpc.StatusCode.OK):
                        access_log.write(request_id=request_id, trace_id=tracing.trace_id(span), method=method,
                                         code=code.name, seconds=seconds, trailers=context.trailing_metadata())
                finally:
                    tracing.end_server_span(span, span_token)
                    request_ids.leave(id_token)

        return observed


_shed: dict[str, Any] = {}


def shed_metric(method: str) -> Any:
    """The shed-calls counter of `method` (bound on first use)."""
    child = _shed.get(method)
    if child is None:
        child = _shed.setdefault(method, SHED.labels(*split_method(method)))
    return child
