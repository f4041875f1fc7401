"""The request ID of the current call: the caller's x-request-id when it is usable as a log key, else a new one.

Every error status carries it (ErrorInfo metadata `request_id`) and so does the log line of every failed call,
so a caller's report and the server log meet on one key.
"""
from __future__ import annotations

import contextvars
import os
import re
from types import TracebackType

import grpc

HEADER = "x-request-id"
_USABLE = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def current() -> str:
    """The current call's request ID ("" outside a call)."""
    return _current.get()


def of_call(context: grpc.ServicerContext) -> str:
    """The caller's x-request-id when usable, else a new one."""
    sent = next((v for k, v in context.invocation_metadata() or () if k == HEADER), "")
    # 32 random hex digits, as uuid4().hex has, at a fifth of its cost (no UUID object): one per call.
    return sent if isinstance(sent, str) and _USABLE.fullmatch(sent) else os.urandom(16).hex()


def enter(context: grpc.ServicerContext) -> tuple[str, contextvars.Token[str] | None]:
    """The call's request ID, set for what runs next (the one already set, when an outer layer set it); give
    the token to `leave` when the call ends."""
    already = _current.get()
    if already:
        return already, None
    request_id = of_call(context)
    return request_id, _current.set(request_id)


def leave(token: contextvars.Token[str] | None) -> None:
    if token is not None:
        _current.reset(token)


class _Scope:
    """A class, not a generator context manager: entered by several pipeline steps on every call, where a
    generator's setup costs more than the work."""

    __slots__ = ("_context", "_token")

    def __init__(self, context: grpc.ServicerContext) -> None:
        self._context = context
        self._token: contextvars.Token[str] | None = None

    def __enter__(self) -> str:
        request_id, self._token = enter(self._context)
        return request_id

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        leave(self._token)


def scope(context: grpc.ServicerContext) -> _Scope:
    """The block runs as one call with its request ID (the one already set, when an outer layer set it)."""
    return _Scope(context)
