"""gateway.proxy over real in-process gRPC servers: retries, deadlines, trailers and error details."""
from __future__ import annotations

import socket
import threading
from collections import defaultdict

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from elearning.common.v1 import common_pb2
from elearning.users.v1 import users_service_pb2 as pb
from elearning.users.v1 import users_service_pb2_grpc as pb_grpc
from gateway.backends import Backends
from gateway.catalog import public_methods
from gateway.proxy import Forwarder
from gateway.routing import MethodRouter, Routes
from shared.auth import client_address
from shared.errors import COMMIT_UNCONFIRMED
from shared.server import create_server
from shared.settings import load_settings
from tests.unit.auth_keys import admin_channel, auth_dir, with_auth


class ScriptedBackend(grpc.GenericRpcHandler):
    """Fails each method with the scripted codes, in order, then answers an empty User."""

    def __init__(self):
        self.script: dict[str, list[grpc.StatusCode]] = defaultdict(list)
        self.attempts: dict[str, int] = defaultdict(int)
        self.seen_timeout: list[float] = []
        self.seen_metadata: list[dict] = []
        self.seen_pairs: list[list[tuple[str, str]]] = []
        self.lock = threading.Lock()

    def service(self, details):
        name = details.method.rsplit("/", 1)[1]
        return grpc.unary_unary_rpc_method_handler(lambda request, context: self.answer(name, context))

    def answer(self, name, context):
        with self.lock:
            self.attempts[name] += 1
            self.seen_timeout.append(context.time_remaining())
            self.seen_metadata.append(dict(context.invocation_metadata()))
            self.seen_pairs.append([(k, v) for k, v in context.invocation_metadata()])
            failure = self.script[name].pop(0) if self.script[name] else None
        if failure == grpc.StatusCode.INVALID_ARGUMENT:
            bad = error_details_pb2.BadRequest(field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field="user.email", description="is malformed")])
            status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message="bad email")
            status.details.add().Pack(bad)
            context.abort_with_status(rpc_status.to_status(status))
        if failure == COMMIT_UNCONFIRMED:
            status = status_pb2.Status(code=code_pb2.UNAVAILABLE, message="not confirmed by the replica")
            status.details.add().Pack(error_details_pb2.ErrorInfo(reason=COMMIT_UNCONFIRMED))
            context.abort_with_status(rpc_status.to_status(status))
        if failure is not None:
            context.abort(failure, "scripted failure")
        context.set_trailing_metadata((("x-backend", "scripted"),))
        return pb.User(id=7).SerializeToString()


@pytest.fixture(scope="module")
def setup():
    folder = auth_dir()
    settings = with_auth(load_settings("gateway", {"ELEARN_TLS_INSECURE": "1"}), folder)
    backend = ScriptedBackend()
    backend_server, backend_port, _ = create_server(settings, "127.0.0.1:0", [], handlers=[backend])
    routes = Routes({"users": {"default": f"127.0.0.1:{backend_port}"}}, settings.shard_map)
    backends = Backends()
    forwarder = Forwarder(MethodRouter(routes, public_methods()), backends, identity=lambda: GATEWAY_PROOF)
    gateway, gateway_port, _ = create_server(settings, "127.0.0.1:0", [], handlers=[forwarder])
    channel = admin_channel(f"127.0.0.1:{gateway_port}", folder)
    yield backend, pb_grpc.UserServiceStub(channel)
    channel.close()
    gateway.stop(0)
    backends.close()
    backend_server.stop(0)


def run(setup, method: str, request, failures, **kwargs):
    backend, stub = setup
    name = method
    backend.script[name] = list(failures)
    backend.attempts[name] = 0
    try:
        return getattr(stub, method).with_call(request, timeout=5, **kwargs), backend.attempts[name]
    except grpc.RpcError as exc:
        return exc, backend.attempts[name]


UNAVAILABLE = grpc.StatusCode.UNAVAILABLE
GATEWAY_PROOF = "the-gateway's-own-token"


def test_reads_are_retried_on_unavailable(setup):
    (reply, call), attempts = run(setup, "GetUser", pb.GetUserRequest(id=5), [UNAVAILABLE, UNAVAILABLE])
    assert reply.id == 7 and attempts == 3


def test_retries_stop_after_three_attempts(setup):
    error, attempts = run(setup, "GetUser", pb.GetUserRequest(id=5), [UNAVAILABLE] * 5)
    assert error.code() == UNAVAILABLE and attempts == 3


def test_creates_are_retried_only_with_a_request_id(setup):
    (reply, _), attempts = run(setup, "CreateUser", pb.CreateUserRequest(request_id="r1"), [UNAVAILABLE])
    assert reply.id == 7 and attempts == 2
    error, attempts = run(setup, "CreateUser", pb.CreateUserRequest(), [UNAVAILABLE])
    assert error.code() == UNAVAILABLE and attempts == 1


def test_other_writes_and_other_codes_are_never_retried(setup):
    error, attempts = run(setup, "UpdateUser", pb.UpdateUserRequest(), [UNAVAILABLE])
    assert error.code() == UNAVAILABLE and attempts == 1
    error, attempts = run(setup, "GetUser", pb.GetUserRequest(id=5), [grpc.StatusCode.INTERNAL])
    assert error.code() == grpc.StatusCode.INTERNAL and attempts == 1


def test_a_commit_the_replica_did_not_confirm_is_not_retried(setup):
    error, attempts = run(setup, "CreateUser", pb.CreateUserRequest(request_id="r2"), [COMMIT_UNCONFIRMED])
    assert error.code() == UNAVAILABLE and attempts == 1


def test_errors_keep_their_rich_details_and_gain_route_trailers(setup):
    request = pb.CreateUserRequest(user=pb.User(region=common_pb2.REGION_EUROPE))
    error, _ = run(setup, "CreateUser", request, [grpc.StatusCode.INVALID_ARGUMENT])
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and error.details() == "bad email"
    status = rpc_status.from_call(error)
    bad = error_details_pb2.BadRequest()
    status.details[0].Unpack(bad)
    assert bad.field_violations[0].field == "user.email"
    trailers = dict(error.trailing_metadata())
    assert (trailers["x-region"], trailers["x-shard"]) == ("EUROPE", "eu")


def test_success_carries_backend_and_route_trailers(setup):
    (_, call), _ = run(setup, "ListUsers", pb.ListUsersRequest(region=common_pb2.REGION_OCEANIA), [])
    trailers = dict(call.trailing_metadata())
    assert trailers == {"x-backend": "scripted", "x-region": "OCEANIA", "x-shard": "apac"}


def test_the_remaining_deadline_and_metadata_go_downstream(setup):
    backend, stub = setup
    backend.seen_timeout.clear()
    backend.seen_metadata.clear()
    stub.GetUser(pb.GetUserRequest(id=5), timeout=0.8, metadata=(("x-trace", "abc"),))
    assert 0 < backend.seen_timeout[-1] <= 0.81  # the deadline shrinks on the way; clocks round
    assert backend.seen_metadata[-1]["x-trace"] == "abc"
    stub.GetUser(pb.GetUserRequest(id=5))
    assert 5 < backend.seen_timeout[-1] <= 10.2  # no deadline: the default (grpc-timeout rounds up)


def test_the_client_address_is_the_gateways_to_say_and_the_clients_own_is_dropped(setup):
    backend, stub = setup
    forged = ((client_address.ADDRESS_HEADER, "198.51.100.10"), (client_address.PROOF_HEADER, "stolen-token"))
    stub.GetUser(pb.GetUserRequest(id=5), metadata=forged)
    said = [(k, v) for k, v in backend.seen_pairs[-1] if k in (client_address.ADDRESS_HEADER,
                                                               client_address.PROOF_HEADER)]
    assert said == [(client_address.ADDRESS_HEADER, "ipv4:127.0.0.1"), (client_address.PROOF_HEADER, GATEWAY_PROOF)]


def test_a_bad_x_region_never_reaches_the_backend(setup):
    backend, stub = setup
    backend.attempts["GetUser"] = 0
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetUser(pb.GetUserRequest(id=5), timeout=5, metadata=(("x-region", "MARS"),))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert backend.attempts["GetUser"] == 0
    assert dict(caught.value.trailing_metadata())["x-region"] == "MARS"


def test_a_backend_that_cannot_be_reached_is_unavailable_without_its_address():
    folder = auth_dir()
    settings = with_auth(load_settings("gateway", {"ELEARN_TLS_INSECURE": "1"}), folder)
    with socket.socket() as unused:  # bound, never listening: connecting to it is refused
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        routes = Routes({"users": {"default": f"127.0.0.1:{port}"}}, settings.shard_map)
        backends = Backends()
        gateway, gateway_port, _ = create_server(
            settings, "127.0.0.1:0", [], handlers=[Forwarder(MethodRouter(routes, public_methods()), backends)])
        try:
            with admin_channel(f"127.0.0.1:{gateway_port}", folder) as channel:
                with pytest.raises(grpc.RpcError) as err:
                    pb_grpc.UserServiceStub(channel).GetUser(pb.GetUserRequest(id=1), timeout=3)
        finally:
            gateway.stop(0)
            backends.close()
    assert err.value.code() is UNAVAILABLE
    assert str(port) not in err.value.details() and "127.0.0.1" not in err.value.details()
