"""Domain errors raised by the service layers; `shared.grpc_errors` maps them to gRPC status codes at the edge.

Nothing here imports grpc or a database driver, so the rules of a service stay free of both.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldViolation:
    """One bad field: the path of the field in the request and why it is wrong."""

    field: str
    description: str


class DomainError(Exception):
    """Base of every error a service raises on purpose. `reason` is an UPPER_SNAKE_CASE constant."""

    reason = "ERROR"

    def __init__(self, message: str, *, reason: str | None = None, metadata: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        if reason:
            self.reason = reason
        self.metadata = dict(metadata or {})


class InvalidArgument(DomainError):
    """The request itself is wrong; `violations` names each bad field."""

    reason = "INVALID_ARGUMENT"

    def __init__(self, field: str, description: str, *, reason: str | None = None,
                 more: list[FieldViolation] | None = None):
        self.violations = [FieldViolation(field, description), *(more or [])]
        message = "; ".join(f"{v.field}: {v.description}" for v in self.violations)
        super().__init__(message, reason=reason, metadata={"field": field})

    @classmethod
    def of(cls, violations: list[FieldViolation]) -> InvalidArgument:
        first, *rest = violations
        return cls(first.field, first.description, more=rest)


class NotFound(DomainError):
    reason = "NOT_FOUND"

    def __init__(self, resource: str, key: object, message: str | None = None):
        super().__init__(message or f"{resource} {key} not found",
                         metadata={"resource": resource, "key": str(key)})


class AlreadyExists(DomainError):
    reason = "ALREADY_EXISTS"

    def __init__(self, resource: str, field: str, value: object = None):
        message = (f"{resource} with {field} {value!s} already exists" if value is not None
                   else f"a {resource} with this {field} already exists")
        super().__init__(message, metadata={"resource": resource, "field": field})
        self.field = field


class FailedPrecondition(DomainError):
    reason = "FAILED_PRECONDITION"


class Aborted(DomainError):
    """A concurrency conflict the caller may retry (stale version, lock timeout)."""

    reason = "ABORTED"


class Unavailable(DomainError):
    reason = "UNAVAILABLE"


class Unauthenticated(DomainError):
    """No token, or one that cannot be trusted."""

    reason = "UNAUTHENTICATED"


class PermissionDenied(DomainError):
    """A trusted caller without the right to this call."""

    reason = "PERMISSION_DENIED"


class TooManyAttempts(DomainError):
    """The caller must slow down (failed sign-ins); `retry_after_s` says for how long."""

    reason = "TOO_MANY_ATTEMPTS"


# The ErrorInfo reason of a commit durable on the primary that its synchronous replica never confirmed: the
# write may exist, so nothing retries it blindly (the retry would find the request_id's record and answer OK).
COMMIT_UNCONFIRMED = "COMMIT_UNCONFIRMED"


class ShardUnavailable(Unavailable):
    """A shard's database (or one node of it) cannot be reached in time."""

    reason = "SHARD_UNAVAILABLE"

    def __init__(self, shard: str, role: str, detail: str = "", *, reason: str | None = None):
        message = f"shard {shard} ({role}) is unavailable" + (f": {detail}" if detail else "")
        super().__init__(message, reason=reason, metadata={"shard": shard, "role": role})
        self.shard = shard
        self.role = role


@dataclass
class Violations:
    """Collects field violations so a validator can report every bad field at once."""

    items: list[FieldViolation] = field(default_factory=list)

    def add(self, field_path: str, description: str) -> None:
        self.items.append(FieldViolation(field_path, description))

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidArgument.of(self.items)
