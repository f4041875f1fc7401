"""gRPC core's own log lines (absl, printed by C++ straight to file descriptor 2) into the JSON log.

File descriptor 2 becomes a pipe read by a thread: a line that is already a JSON object passes through, any
other (gRPC core's "E1202 00:01:02.345 123 file.cc:45] text", a C library's warning) becomes a JSON record
of logger `grpc.core` at the level its first letter gives. The Python handlers write to a copy of the
original stderr, so nothing loops.
"""
from __future__ import annotations

import logging
import os
import re
import threading
from typing import BinaryIO, TextIO

log = logging.getLogger("grpc.core")
_ABSL = re.compile(r"^([IWEF])\d{4} [\d:.]+\s+\d+ ([^\]]+)\] (.*)$")
_LEVELS = {"I": logging.INFO, "W": logging.WARNING, "E": logging.ERROR, "F": logging.CRITICAL}


def capture() -> TextIO:
    """Route fd 2 through the pipe reader; returns the stream the JSON handler must write to."""
    original = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    stream = os.fdopen(original, "w", buffering=1, encoding="utf-8", errors="replace")
    threading.Thread(target=_pump, args=(os.fdopen(read_end, "rb"), stream), name="native-logs",
                     daemon=True).start()
    return stream


def _pump(pipe: BinaryIO, stream: TextIO) -> None:
    for raw in pipe:
        line = raw.decode("utf-8", "replace").rstrip("\n")
        if not line:
            continue
        if line.startswith("{"):
            stream.write(line + "\n")
            continue
        found = _ABSL.match(line)
        if found:
            log.log(_LEVELS[found.group(1)], found.group(3), extra={"source": found.group(2)})
        else:
            log.warning(line)
