"""The one server interceptor that turns domain errors into gRPC statuses with rich details.

INVALID_ARGUMENT carries a google.rpc.BadRequest with one field violation per bad field; every error
carries a google.rpc.ErrorInfo (reason, domain, metadata such as the shard). Anything unexpected is
logged with its traceback and answered INTERNAL, never UNKNOWN.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from shared import consistency, errors
from shared.interceptors import UnaryWrapInterceptor

log = logging.getLogger(__name__)

CODES: list[tuple[type[errors.DomainError], int]] = [
    (errors.InvalidArgument, code_pb2.INVALID_ARGUMENT),
    (errors.NotFound, code_pb2.NOT_FOUND),
    (errors.AlreadyExists, code_pb2.ALREADY_EXISTS),
    (errors.FailedPrecondition, code_pb2.FAILED_PRECONDITION),
    (errors.Aborted, code_pb2.ABORTED),
    (errors.Unavailable, code_pb2.UNAVAILABLE),
]


def _pack(message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def to_status(exc: errors.DomainError, domain: str) -> grpc.Status:
    code = next((c for cls, c in CODES if isinstance(exc, cls)), code_pb2.INTERNAL)
    details = []
    if isinstance(exc, errors.InvalidArgument):
        details.append(_pack(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in exc.violations])))
    details.append(_pack(error_details_pb2.ErrorInfo(reason=exc.reason, domain=domain,
                                                     metadata={k: str(v) for k, v in exc.metadata.items()})))
    return rpc_status.to_status(status_pb2.Status(code=code, message=exc.message, details=details))


@dataclass(frozen=True)
class Status(grpc.Status):
    """A status built here (grpc.Status is an interface): code, message and trailing metadata."""

    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple


def with_trailers(status: grpc.Status, extra: tuple) -> grpc.Status:
    """`status` with more trailing metadata (the consistency trailers of the call, say)."""
    if not extra:
        return status
    return Status(status.code, status.details, (*(status.trailing_metadata or ()), *extra))


def error_reason(error: grpc.RpcError) -> str:
    """The google.rpc.ErrorInfo reason of a failed call's rich status, or "" (callers of this API use it)."""
    try:
        status = rpc_status.from_call(error)
    except ValueError:
        return ""
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info.reason
    return ""


def internal_status(domain: str) -> grpc.Status:
    return rpc_status.to_status(status_pb2.Status(
        code=code_pb2.INTERNAL, message="internal error; see the service log",
        details=[_pack(error_details_pb2.ErrorInfo(reason="INTERNAL", domain=domain))]))


class DomainErrorInterceptor(UnaryWrapInterceptor):
    """Wraps every unary handler so a raised DomainError becomes its gRPC status (with the call's
    consistency trailers)."""

    def __init__(self, domain: str):
        super().__init__()
        self.domain = domain

    def wrap(self, behavior, method):
        def guarded(request, context):
            try:
                return behavior(request, context)
            except errors.DomainError as exc:
                log.info("rpc rejected", extra={"method": method, "reason": exc.reason, "detail": exc.message})
                context.abort_with_status(with_trailers(to_status(exc, self.domain), consistency.trailers()))
            except Exception:
                if context.code() is not None:  # the handler aborted on purpose
                    raise
                log.exception("rpc failed", extra={"method": method})
                context.abort_with_status(internal_status(self.domain))

        return guarded
