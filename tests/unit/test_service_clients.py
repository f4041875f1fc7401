"""shared.clients: the one retry of an inter-service read stays within the caller's remaining deadline."""
from __future__ import annotations

import threading
import types
from concurrent import futures

import grpc
import pytest

from shared import deadlines
from shared.clients import ServiceClients
from shared.errors import Unavailable

METHOD = "/test.Probe/Read"


@pytest.fixture
def unavailable_server():
    """A real server whose one method answers UNAVAILABLE and records the time each call had left."""
    seen: list[float] = []
    lock = threading.Lock()

    def read(request: bytes, context: grpc.ServicerContext) -> bytes:
        with lock:
            seen.append(context.time_remaining())
        context.abort(grpc.StatusCode.UNAVAILABLE, "node restarting")

    server = grpc.server(futures.ThreadPoolExecutor(4))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Probe", {
        "Read": grpc.unary_unary_rpc_method_handler(read)}),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", seen
    server.stop(None)


def test_both_attempts_are_bounded_by_the_callers_remaining_deadline(unavailable_server):
    address, seen = unavailable_server
    clients = ServiceClients(types.SimpleNamespace(service_addresses={"probe": address}, call_timeout_s=30.0,
                                                   auth_dir="", process="test", tls=None))
    method = clients.channel("probe").unary_unary(METHOD)
    try:
        with deadlines.within(2.0), pytest.raises(Unavailable):
            clients.call("probe", method, b"", what="probe")
    finally:
        clients.close()
    assert len(seen) == 2, seen  # retried once
    assert all(left <= 2.0 for left in seen), f"an attempt outlived the caller's 2 s deadline: {seen}"


def test_without_a_caller_deadline_the_configured_timeout_applies(unavailable_server):
    address, seen = unavailable_server
    clients = ServiceClients(types.SimpleNamespace(service_addresses={"probe": address}, call_timeout_s=5.0,
                                                   auth_dir="", process="test", tls=None))
    try:
        with pytest.raises(Unavailable):
            clients.call("probe", clients.channel("probe").unary_unary(METHOD), b"", what="probe")
    finally:
        clients.close()
    assert len(seen) == 2 and 2.0 < seen[0] <= 5.0, seen
