"""The request ID of the current call: the caller's x-request-id when it is usable as a log key, else a new one.

Every error status carries it (ErrorInfo metadata `request_id`) and so does the log line of every failed call,
so a caller's report and the server log meet on one key.
"""
from __future__ import annotations

import contextlib
import contextvars
import re
import uuid
from collections.abc import Iterator

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
    return sent if isinstance(sent, str) and _USABLE.fullmatch(sent) else uuid.uuid4().hex


@contextlib.contextmanager
def scope(context: grpc.ServicerContext) -> Iterator[str]:
    """The block runs as one call with its request ID (the one already set, when an outer layer set it)."""
    if _current.get():
        yield _current.get()
        return
    token = _current.set(of_call(context))
    try:
        yield _current.get()
    finally:
        _current.reset(token)
