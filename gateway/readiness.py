"""Each backend channel's connectivity, followed by one subscription, so a call can wait briefly for a
channel that is reconnecting instead of failing on gRPC's reconnect backoff."""
from __future__ import annotations

import threading

import grpc

# The longest reconnect backoff (300 ms, shared.balancing) with its jitter and a connect: enough for a backend
# that is back, short enough that a dead one still fails fast.
READY_WAIT_S = 0.5


class Readiness:
    """Whether one channel is READY now; `wait` blocks until it is, or the timeout passes."""

    def __init__(self, channel: grpc.Channel):
        self._ready = threading.Event()
        channel.subscribe(self._changed, try_to_connect=True)

    def _changed(self, state: grpc.ChannelConnectivity) -> None:
        if state == grpc.ChannelConnectivity.READY:
            self._ready.set()
        else:
            self._ready.clear()

    def ready(self) -> bool:
        return self._ready.is_set()

    def wait(self, timeout_s: float) -> bool:
        # is_set() first: a READY channel (nearly every call) then costs no lock, as Event.wait takes one.
        return self._ready.is_set() or self._ready.wait(max(0.0, timeout_s))
