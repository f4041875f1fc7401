"""Structured logging: one JSON object per line on stderr, fields passed with `extra=`."""
from __future__ import annotations

import json
import logging
import sys
import time
from typing import TextIO

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, process: str):
        super().__init__()
        self.process = process
        self._encode = json.JSONEncoder(default=str).encode  # one encoder, not one per line as json.dumps makes
        self._second: tuple[int, str] = (-1, "")

    def _timestamp(self, created: float) -> str:
        """The record's UTC time to the millisecond; the part to the second is formatted once per second."""
        second = int(created)
        cached, stamp = self._second  # one tuple, swapped whole: threads need no lock to read it
        if second != cached:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, stamp)
        return f"{stamp}.{int((created - second) * 1000):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self._timestamp(record.created),
            "level": record.levelname.lower(),
            "process": self.process,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return self._encode(entry)


def configure(process: str, level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send every log record of this process to `stream` (stderr) as JSON lines."""
    # The JSON line holds none of the caller's file, line, thread or process: skip finding them for each record
    # (the stdlib's own switches, https://docs.python.org/3/howto/logging.html#optimization).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(process))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
