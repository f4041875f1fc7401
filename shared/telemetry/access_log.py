"""The access log: one JSON line per call (logger `elearn.access`), sampled and rate-limited by settings.

Every failed call is a candidate, as is a `sample` share of the successful ones; past `max_per_s` lines in a
second the rest of that second's lines are dropped and counted (elearn_access_log_dropped_total), so a
load test cannot turn the log into the bottleneck.
"""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator, Sequence
from typing import Any

from google.rpc import error_details_pb2, status_pb2

from shared.telemetry.metrics import ACCESS_LOG_DROPPED

log = logging.getLogger("elearn.access")
_DETAILS = "grpc-status-details-bin"
_DROPPED = ACCESS_LOG_DROPPED


class AccessLog:
    def __init__(self, sample: float, max_per_s: float) -> None:
        self.sample = sample
        self.max_per_s = max_per_s
        self._second = 0
        self._written = 0

    def admits(self, ok: bool) -> bool:
        """Whether this call's line is written. Unlocked: a race costs a line more or less in a second."""
        if self.max_per_s <= 0 or (ok and self.sample < 1.0 and random.random() >= self.sample):
            _DROPPED.inc()
            return False
        now = int(time.monotonic())
        if now != self._second:
            self._second, self._written = now, 0
        self._written += 1
        if self._written > self.max_per_s:
            _DROPPED.inc()
            return False
        return True

    def write(self, *, request_id: str, trace_id: str, method: str, code: str, seconds: float,
              trailers: Sequence[tuple[str, Any]] | None, caller: str = "") -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        served_by = min_lsn = shard = ""
        for key, value in trailers or ():
            if key == "x-served-by" and isinstance(value, str):
                served_by = value
            elif key == "x-shard" and isinstance(value, str):
                shard = value
            elif key == "x-min-lsn" and isinstance(value, str):
                min_lsn = value
        if not shard and (served_by or min_lsn):
            shard = ",".join(sorted({pair.split(":", 1)[0] for text in (served_by, min_lsn) for pair in text.split(",")
                                     if pair}))
        log.handle(_AccessRecord({
            "request_id": request_id, "trace_id": trace_id, "method": method, "code": code,
            "reason": reason(trailers) if code != "OK" else "", "duration_ms": round(seconds * 1000, 3),
            "shard": shard, "served_by": served_by, "caller": caller}))


class _AccessRecord(logging.LogRecord):
    """An access line's log record: the attributes every one shares are copied from one dict, and only the time
    and the call's fields are made per record (LogRecord's own constructor looks up a file name, a thread and a
    process for every record: most of a line's cost, for fields the JSON line does not hold)."""

    def __init__(self, fields: dict[str, Any]) -> None:  # no super().__init__(), on purpose
        created = time.time()
        self.__dict__.update(_SHARED)
        self.__dict__.update(fields)
        self.created = created
        self.msecs = int(created * 1000) % 1000 + 0.0
        self.relativeCreated = (created - _STARTED) * 1000


_STARTED: float = getattr(logging, "_startTime", time.time())  # what LogRecord measures relativeCreated from
_SHARED = {
    "name": log.name, "msg": "call", "args": (), "levelname": "INFO", "levelno": logging.INFO,
    "pathname": __file__, "filename": "access_log.py", "module": "access_log", "exc_info": None, "exc_text": None,
    "stack_info": None, "lineno": 0, "funcName": "write", "thread": None, "threadName": None,
    "processName": None, "process": None,
}


def _text(trailers: Sequence[tuple[str, Any]] | None) -> Iterator[tuple[str, str]]:
    for key, value in trailers or ():
        if isinstance(value, str) and key.startswith("x-"):
            yield key, value


def reason(trailers: Sequence[tuple[str, Any]] | None) -> str:
    """The google.rpc.ErrorInfo reason in a status's rich details, or ""."""
    raw = next((v for k, v in trailers or () if k == _DETAILS), None)
    if not isinstance(raw, bytes):
        return ""
    try:
        status = status_pb2.Status.FromString(raw)
    except ValueError:
        return ""
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return str(info.reason)
    return ""
