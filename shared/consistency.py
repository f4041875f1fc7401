"""What a call asks of its reads (STRONG, SESSION or BOUNDED staleness) and what it reports back.

Requests carry, in metadata:
  x-consistency       strong | session (the default) | bounded
  x-max-staleness-ms  with bounded: how old the data may be, in milliseconds
  x-min-lsn           the session token: shard:LSN pairs a read must see (see shared.pg.lsn)
Responses carry, in trailing metadata:
  x-min-lsn           the session token after this call (the one received, moved past this call's commits)
  x-served-by         shard:primary|replica for each shard the call read

The server interceptor below parses the request's metadata once and keeps the policy and the call's trace in
context variables, so `shared.pg.pools` routes reads and records commits without any store passing them along.
"""
from __future__ import annotations

import contextvars
import enum
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import grpc

from shared import request_ids
from shared.errors import InvalidArgument
from shared.interceptors import Behavior, UnaryWrapInterceptor
from shared.pg import lsn

CONSISTENCY = "x-consistency"
MAX_STALENESS = "x-max-staleness-ms"
MIN_LSN = "x-min-lsn"
SERVED_BY = "x-served-by"
MAX_STALENESS_MS = 24 * 3600 * 1000
POLICY_KEYS = frozenset({CONSISTENCY, MAX_STALENESS, MIN_LSN})  # the metadata a read policy is made of


class Mode(str, enum.Enum):
    STRONG = "strong"      # the primary
    SESSION = "session"    # a replica that has replayed the session token, else the primary
    BOUNDED = "bounded"    # a replica no further behind than max_staleness_ms, else the primary


@dataclass(frozen=True)
class ReadPolicy:
    mode: Mode = Mode.SESSION
    max_staleness_ms: int | None = None
    min_lsn: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, str], shards: Collection[str] | None = None) -> ReadPolicy:
        """The policy the metadata asks for; with `shards`, a token naming any other shard is refused (it
        would otherwise be ignored, and the read would silently not be the session read the caller asked for)."""
        raw_mode = (metadata.get(CONSISTENCY) or Mode.SESSION.value).strip().lower()
        try:
            mode = Mode(raw_mode)
        except ValueError:
            raise InvalidArgument(CONSISTENCY, f"{raw_mode!r}: expected strong, session or bounded") from None
        staleness = None
        raw_staleness = metadata.get(MAX_STALENESS)
        if mode is Mode.BOUNDED:
            if raw_staleness is None:
                raise InvalidArgument(MAX_STALENESS, "required with x-consistency: bounded")
            try:
                staleness = int(raw_staleness)
            except ValueError:
                raise InvalidArgument(MAX_STALENESS, f"{raw_staleness!r}: expected whole milliseconds") from None
            if not 0 <= staleness <= MAX_STALENESS_MS:
                raise InvalidArgument(MAX_STALENESS, f"must be between 0 and {MAX_STALENESS_MS}")
        elif raw_staleness is not None:
            raise InvalidArgument(MAX_STALENESS, "only allowed with x-consistency: bounded")
        token = metadata.get(MIN_LSN)
        positions = lsn.parse_token(token) if token else {}
        unknown = sorted(set(positions) - set(shards)) if shards is not None else []
        if unknown:
            raise InvalidArgument(MIN_LSN, f"unknown shard {unknown[0][:32]!r}; expected one of "
                                           + ", ".join(sorted(shards or ())))
        return cls(mode, staleness, positions)


@dataclass
class CallTrace:
    """What one call did to the shards: the commit positions of its writes and the nodes its reads used."""

    commits: dict[str, int] = field(default_factory=dict)
    served_by: dict[str, str] = field(default_factory=dict)

    def committed(self, shard: str, position: int) -> None:
        lsn.merge(self.commits, {shard: position})

    def read_from(self, shard: str, role: str) -> None:
        # A call that read one shard on both nodes (a replica miss confirmed on the primary) reports the primary.
        if self.served_by.get(shard) != "primary":
            self.served_by[shard] = role

    def trailers(self, policy: ReadPolicy) -> tuple[tuple[str, str], ...]:
        out = []
        token = lsn.merge(dict(policy.min_lsn), self.commits)
        if token:
            out.append((MIN_LSN, lsn.format_token(token)))
        if self.served_by:
            out.append((SERVED_BY, ",".join(f"{s}:{r}" for s, r in sorted(self.served_by.items()))))
        return tuple(out)


DEFAULT_POLICY = ReadPolicy()
_policy: contextvars.ContextVar[ReadPolicy] = contextvars.ContextVar("read_policy", default=DEFAULT_POLICY)
_trace: contextvars.ContextVar[CallTrace | None] = contextvars.ContextVar("call_trace", default=None)


def policy() -> ReadPolicy:
    """The current call's read policy (SESSION without a token outside any call)."""
    return _policy.get()


def trace() -> CallTrace | None:
    """The current call's trace, or None outside a call (background work records nothing)."""
    return _trace.get()


class _CallScope:
    """A class, not a generator context manager: every call of a service enters one."""

    __slots__ = ("_policy", "_tokens")

    def __init__(self, read_policy: ReadPolicy) -> None:
        self._policy = read_policy
        self._tokens: tuple[contextvars.Token[ReadPolicy], contextvars.Token[CallTrace | None]] | None = None

    def __enter__(self) -> CallTrace:
        call_trace = CallTrace()
        self._tokens = (_policy.set(self._policy), _trace.set(call_trace))
        return call_trace

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._tokens is not None:
            _trace.reset(self._tokens[1])
            _policy.reset(self._tokens[0])


def call_scope(read_policy: ReadPolicy) -> _CallScope:
    """Run a block as one call: reads follow `read_policy`, commits and served reads land in the trace."""
    return _CallScope(read_policy)


def trailers() -> tuple[tuple[str, str], ...]:
    """The consistency trailers of the current call so far (for an error status, say)."""
    current = _trace.get()
    return current.trailers(_policy.get()) if current is not None else ()


class ConsistencyInterceptor(UnaryWrapInterceptor):
    """Gives each unary call its read policy and trace, and answers with the x-min-lsn / x-served-by trailers.

    It sits outside the domain-error interceptor, which adds the same trailers to error statuses.
    """

    def __init__(self, error_status: Callable[[InvalidArgument], grpc.Status],
                 shards: Collection[str] | None = None) -> None:
        super().__init__()
        self._error_status = error_status  # InvalidArgument → grpc.Status, for malformed metadata
        self._shards = shards  # the shard names a session token may name

    def wrap(self, behavior: Behavior, method: str) -> Behavior:
        def scoped(request: Any, context: grpc.ServicerContext) -> Any:
            # Only the policy's own keys: most calls carry other x- metadata (x-request-id from the gateway) but
            # none of these, and take the default policy without parsing anything.
            metadata = {k: v for k, v in context.invocation_metadata() if k in POLICY_KEYS and isinstance(v, str)}
            try:
                read_policy = ReadPolicy.from_metadata(metadata, self._shards) if metadata else DEFAULT_POLICY
            except InvalidArgument as exc:
                with request_ids.scope(context):
                    context.abort_with_status(self._error_status(exc))
            with call_scope(read_policy) as call_trace:
                response = behavior(request, context)
                found = call_trace.trailers(read_policy)
                if found:
                    context.set_trailing_metadata(found)
                return response

        return scoped
