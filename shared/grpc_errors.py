"""The one server interceptor that turns domain errors into gRPC statuses with rich details, and the one place
statuses are built.

INVALID_ARGUMENT carries a google.rpc.BadRequest with one field violation per bad field; every error
carries a google.rpc.ErrorInfo (reason, domain, metadata such as the shard, and the call's `request_id`).
The caller's x-request-id metadata names the call (one is made up when it has none or an unusable one);
the log line of every failed call carries the same ID with the full cause (the driver's text, a traceback),
which never reaches the caller. Anything unexpected is answered INTERNAL, never UNKNOWN.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, cast

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from elearning.common.v1 import common_pb2
from shared import consistency, errors, request_ids
from shared.interceptors import Behavior, UnaryWrapInterceptor

log = logging.getLogger(__name__)

# Text that shows how the server is built; a status holding any is replaced by a plain one (the log keeps it).
INTERNAL_TEXT = re.compile(
    r"SELECT |INSERT |UPDATE \w+ SET|DELETE FROM|PL/pgSQL|relation \"|Process \d+ waits|on transaction \d+|"
    r"Traceback|File \"|/[\w.-]+/[\w./-]*\.py|psycopg|pymongo|violates [\w -]+ constraint|"
    r"\"\w+_(fkey|pkey|key|check)\"|CONTEXT:|DETAIL:|"  # PostgreSQL quotes the names of its constraints
    r"\b\d{1,3}(?:\.\d{1,3}){3}:\d{2,5}\b|ipv[46]:|Connection refused")  # addresses of the cluster's nodes

CODES: list[tuple[type[errors.DomainError], int]] = [
    (errors.InvalidArgument, code_pb2.INVALID_ARGUMENT),
    (errors.NotFound, code_pb2.NOT_FOUND),
    (errors.AlreadyExists, code_pb2.ALREADY_EXISTS),
    (errors.FailedPrecondition, code_pb2.FAILED_PRECONDITION),
    (errors.Aborted, code_pb2.ABORTED),
    (errors.Unavailable, code_pb2.UNAVAILABLE),
    (errors.Unauthenticated, code_pb2.UNAUTHENTICATED),
    (errors.PermissionDenied, code_pb2.PERMISSION_DENIED),
    (errors.TooManyAttempts, code_pb2.RESOURCE_EXHAUSTED),
]


def _pack(message: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def leaks(text: str) -> bool:
    return bool(INTERNAL_TEXT.search(text))


def to_status(exc: errors.DomainError, domain: str) -> grpc.Status:
    code = next((c for cls, c in CODES if isinstance(exc, cls)), code_pb2.INTERNAL)
    message = exc.message
    violations = getattr(exc, "violations", [])
    if leaks(message) or any(leaks(v.description) for v in violations):
        log.error("domain error text shows internals; answered without it", extra={
            "request_id": request_ids.current(), "detail": message})
        message = f"{exc.reason.lower().replace('_', ' ')} (details in the service log)"
        violations = [errors.FieldViolation(v.field, "is not acceptable") for v in violations]
    details = []
    if isinstance(exc, errors.InvalidArgument):
        details.append(_pack(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in violations])))
    metadata = {k: str(v) for k, v in exc.metadata.items()}
    if request_ids.current():
        metadata["request_id"] = request_ids.current()
    details.append(_pack(error_details_pb2.ErrorInfo(reason=exc.reason, domain=domain, metadata=metadata)))
    return rpc_status.to_status(status_pb2.Status(code=code, message=message, details=details))


def item_status(exc: errors.DomainError) -> common_pb2.ItemStatus:
    """One item's outcome in a batch response: the code and message the single call would have answered
    (a shard's failure included), free of internals like every status."""
    code = next((c for cls, c in CODES if isinstance(exc, cls)), code_pb2.INTERNAL)
    message = exc.message if not leaks(exc.message) else exc.reason.lower().replace("_", " ")
    return common_pb2.ItemStatus(code=code, message=message, reason=exc.reason)


@dataclass(frozen=True)
class Status(grpc.Status):
    """A status built here (grpc.Status is an interface): code, message and trailing metadata."""

    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, str | bytes], ...]


def with_trailers(status: grpc.Status, extra: tuple[tuple[str, str | bytes], ...]) -> grpc.Status:
    """`status` with more trailing metadata (the consistency trailers of the call, say)."""
    if not extra:
        return status
    return Status(status.code, status.details, (*(status.trailing_metadata or ()), *extra))


def error_reason(error: grpc.RpcError) -> str:
    """The google.rpc.ErrorInfo reason of a failed call's rich status, or "" (callers of this API use it)."""
    try:
        status = rpc_status.from_call(cast(grpc.Call, error))  # a failed call's error is its Call too
    except ValueError:
        return ""
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return str(info.reason)
    return ""


def internal_status(domain: str) -> grpc.Status:
    metadata = {"request_id": request_ids.current()} if request_ids.current() else {}
    return rpc_status.to_status(status_pb2.Status(
        code=code_pb2.INTERNAL, message="internal error; see the service log",
        details=[_pack(error_details_pb2.ErrorInfo(reason="INTERNAL", domain=domain, metadata=metadata))]))


def _cause(exc: BaseException) -> str:
    """The driver's (or other library's) text behind a domain error, for the log only."""
    cause = exc.__cause__ or exc.__context__
    return f"{type(cause).__name__}: {str(cause).strip()}" if cause is not None else ""


class DomainErrorInterceptor(UnaryWrapInterceptor):
    """Wraps every unary handler so a raised DomainError becomes its gRPC status (with the call's
    consistency trailers and request ID)."""

    def __init__(self, domain: str) -> None:
        super().__init__()
        self.domain = domain

    def wrap(self, behavior: Behavior, method: str) -> Behavior:
        def guarded(request: Any, context: grpc.ServicerContext) -> Any:
            with request_ids.scope(context):
                return self._guarded(behavior, method, request, context)

        return guarded

    def _guarded(self, behavior: Behavior, method: str, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return behavior(request, context)
        except errors.DomainError as exc:
            log.info("rpc rejected", extra={"method": method, "reason": exc.reason, "detail": exc.message,
                                            "request_id": request_ids.current(), "cause": _cause(exc)})
            context.abort_with_status(with_trailers(to_status(exc, self.domain), consistency.trailers()))
        except Exception:
            if cast(Any, context).code() is not None:  # the handler aborted on purpose (code(): not in the stubs)
                raise
            log.exception("rpc failed", extra={"method": method, "request_id": request_ids.current()})
            context.abort_with_status(internal_status(self.domain))
