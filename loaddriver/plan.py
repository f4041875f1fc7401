"""One planned RPC: what to send, where, what status is expected, and what to remember when it succeeds."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf.message import Message


@dataclass
class Planned:
    rpc: str                      # method name, e.g. "CreateUser"
    service: str                  # backend key: users, courses, enrollments, payments, content
    request: Message
    expected: str = "OK"          # the grpc status name a correct system answers
    kind: str = "valid"           # or the invalid kind's name
    region: str = ""              # sent as x-region when set (the gateway then skips parsing the request)
    on_ok: Callable[[Message], Planned | None] | None = None  # may return a follow-up call
    items: int = 0                # a batch call's items (0: not a batch); its report counts rows apart
