"""gateway.backends: a call waits briefly for a backend channel that is (re)connecting, so the first call after a
backend starts is not failed on gRPC's reconnect backoff; a backend that stays down costs at most the wait."""
from __future__ import annotations

import socket
import time
from concurrent import futures

import grpc

from gateway.backends import Backends


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_wait_ends_when_a_backend_that_was_down_comes_up():
    port = free_port()
    backends = Backends()
    address = f"127.0.0.1:{port}"
    began = time.monotonic()
    assert not backends.ready(address)
    assert not backends.wait_ready(address, 0.3)  # nothing listens: the wait is bounded
    assert not backends.ready(address)
    assert time.monotonic() - began < 1.0
    server = grpc.server(futures.ThreadPoolExecutor(2))
    server.add_insecure_port(address)
    server.start()
    try:
        began = time.monotonic()
        assert backends.wait_ready(address, 5.0)  # within the reconnect backoff (at most 300 ms)
        assert time.monotonic() - began < 2.5
        assert backends.wait_ready(address, 0.0)  # READY: no wait at all
        assert backends.ready(address)
    finally:
        server.stop(0)
        backends.close()
