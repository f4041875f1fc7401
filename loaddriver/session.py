"""The run's session token: sent as x-min-lsn on every call, moved forward by every response's x-min-lsn trailer.

One token for the whole run, shared by all workers: an ID that one worker created (and put in the Pool) is
read by another worker with a token that covers the create's commit, so the read sees it (read-your-writes),
whether a replica that has replayed that far serves it or the primary does.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable

from shared.consistency import MIN_LSN
from shared.errors import InvalidArgument
from shared.pg import lsn


class SessionToken:
    """The shard → LSN positions the run has seen, merged by keeping the later position of each shard."""

    def __init__(self, token: str = ""):
        self._lock = threading.Lock()
        self._positions: dict[str, int] = {}
        self._text = ""
        self.malformed = 0  # trailers that could not be parsed; left out rather than stopping the run
        if token:
            self.merge(token)

    def merge(self, token: str) -> None:
        """Merge one x-min-lsn value (shard:LSN pairs, comma-separated) into the token."""
        try:
            positions = lsn.parse_token(token)
        except InvalidArgument:
            with self._lock:
                self.malformed += 1
            return
        with self._lock:
            self._text = lsn.format_token(lsn.merge(self._positions, positions))

    def merge_trailers(self, trailers: Iterable[tuple[str, str]]) -> None:
        """Merge the x-min-lsn trailer of a response (OK or not), when it has one."""
        for key, value in trailers:
            if key == MIN_LSN and value:
                self.merge(value)

    def text(self) -> str:
        """The token as the x-min-lsn metadata carries it; "" before any call has returned one."""
        with self._lock:
            return self._text

    def positions(self) -> dict[str, int]:
        with self._lock:
            return dict(self._positions)

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """The request metadata to send: (("x-min-lsn", token),), or () while the token is empty."""
        text = self.text()
        return ((MIN_LSN, text),) if text else ()
