"""shared.server + DomainErrorInterceptor end to end, in-process: a real gRPC server on 127.0.0.1:0."""
import re

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from elearning.users.v1 import users_service_pb2 as pb
from elearning.users.v1 import users_service_pb2_grpc as pb_grpc
from shared import errors
from shared.server import ServiceBinding, create_server
from shared.settings import load_settings
from tests.unit.auth_keys import admin_channel, auth_dir, with_auth

SERVICE = "elearning.users.v1.UserService"


class FailingUsers(pb_grpc.UserServiceServicer):
    def GetUser(self, request, context):
        raise errors.NotFound("user", request.id)

    def CreateUser(self, request, context):
        raise errors.InvalidArgument("user.email", "is required",
                                     more=[errors.FieldViolation("user.region", "is required")])

    def ListUsers(self, request, context):
        raise RuntimeError("secret connection string leaked")

    def DeleteUser(self, request, context):
        raise errors.ShardUnavailable("eu", "primary")

    def UpdateUser(self, request, context):
        if request.user.full_name == "driver":
            raise errors.Aborted("a concurrent update conflicted; retry") from RuntimeError(
                "deadlock detected DETAIL: Process 12 waits for ShareLock on transaction 9")
        if request.user.full_name == "leak":
            raise errors.FailedPrecondition('insert or update on table "users" violates foreign key constraint '
                                            '"users_x_fkey"', reason="X")
        context.abort(grpc.StatusCode.PERMISSION_DENIED, "not yours")

    def GetUserByEmail(self, request, context):
        return pb.User(id=1, email=request.email)


@pytest.fixture
def running():
    folder = auth_dir()
    settings = with_auth(load_settings("users", {"ELEARN_TLS_INSECURE": "1"}), folder)
    binding = ServiceBinding(SERVICE, lambda server: pb_grpc.add_UserServiceServicer_to_server(FailingUsers(), server))
    server, port, health = create_server(settings, "127.0.0.1:0", [binding])
    channel = admin_channel(f"127.0.0.1:{port}", folder)
    try:
        yield channel, health
    finally:
        channel.close()
        server.stop(grace=1).wait()


@pytest.fixture
def users(running):
    return pb_grpc.UserServiceStub(running[0])


def details(call_error: grpc.RpcError, message_type):
    found = []
    for detail in rpc_status.from_call(call_error).details:
        message = message_type()
        if detail.Unpack(message):
            found.append(message)
    return found


def test_not_found(users):
    with pytest.raises(grpc.RpcError) as err:
        users.GetUser(pb.GetUserRequest(id=99), timeout=5)
    assert err.value.code() is grpc.StatusCode.NOT_FOUND
    assert err.value.details() == "user 99 not found"
    info, = details(err.value, error_details_pb2.ErrorInfo)
    metadata = dict(info.metadata)
    assert re.fullmatch(r"[0-9a-f]{32}", metadata.pop("request_id"))  # none sent: one made for the call
    assert (info.reason, info.domain, metadata) == ("NOT_FOUND", "elearning.users", {"resource": "user", "key": "99"})


def test_invalid_argument_with_bad_request(users):
    with pytest.raises(grpc.RpcError) as err:
        users.CreateUser(pb.CreateUserRequest(), timeout=5)
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    bad_request, = details(err.value, error_details_pb2.BadRequest)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("user.email", "is required"), ("user.region", "is required")]


def test_unexpected_exception_is_internal_and_hidden(users):
    with pytest.raises(grpc.RpcError) as err:
        users.ListUsers(pb.ListUsersRequest(), timeout=5)
    assert err.value.code() is grpc.StatusCode.INTERNAL
    assert "secret" not in err.value.details()
    info, = details(err.value, error_details_pb2.ErrorInfo)
    assert info.reason == "INTERNAL"


def test_shard_unavailable(users):
    with pytest.raises(grpc.RpcError) as err:
        users.DeleteUser(pb.DeleteUserRequest(id=1), timeout=5, metadata=(("x-request-id", "req-7"),))
    assert err.value.code() is grpc.StatusCode.UNAVAILABLE
    info, = details(err.value, error_details_pb2.ErrorInfo)
    assert dict(info.metadata) == {"shard": "eu", "role": "primary", "request_id": "req-7"}


def test_a_deliberate_abort_passes_through(users):
    with pytest.raises(grpc.RpcError) as err:
        users.UpdateUser(pb.UpdateUserRequest(), timeout=5)
    assert (err.value.code(), err.value.details()) == (grpc.StatusCode.PERMISSION_DENIED, "not yours")


def test_success_passes_through(users):
    assert users.GetUserByEmail(pb.GetUserByEmailRequest(email="a@b.co"), timeout=5).email == "a@b.co"


def check(channel, service: str) -> int:
    return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status


@pytest.mark.parametrize("service", ["", SERVICE])
def test_health_serving(running, service):
    assert check(running[0], service) == health_pb2.HealthCheckResponse.SERVING


def test_health_not_serving_once_shutdown_begins(running):
    channel, health = running
    health.enter_graceful_shutdown()
    assert check(channel, "") == health_pb2.HealthCheckResponse.NOT_SERVING
    assert check(channel, SERVICE) == health_pb2.HealthCheckResponse.NOT_SERVING


def test_health_unknown_service(running):
    with pytest.raises(grpc.RpcError) as err:
        check(running[0], "elearning.nope.v1.Nope")
    assert err.value.code() is grpc.StatusCode.NOT_FOUND


def test_undecodable_bytes_are_invalid_argument_not_internal(running):
    call = running[0].unary_unary(f"/{SERVICE}/GetUserByEmail")
    for raw in (b"\x0a\x05ab", b"\x0a\x02\xff\xfe", b"\xff\xff\xff"):  # truncated, not UTF-8, garbage
        with pytest.raises(grpc.RpcError) as err:
            call(raw, timeout=5)
        assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT, raw
        bad_request, = details(err.value, error_details_pb2.BadRequest)
        assert bad_request.field_violations[0].field == "request"


def test_a_nul_anywhere_in_a_request_is_invalid_argument_naming_the_field(users):
    with pytest.raises(grpc.RpcError) as err:
        users.UpdateUser(pb.UpdateUserRequest(user=pb.User(id=1, profile=pb.UserProfile(bio="a\x00b"))), timeout=5)
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    bad_request, = details(err.value, error_details_pb2.BadRequest)
    assert bad_request.field_violations[0].field == "user.profile.bio"


def test_an_error_text_showing_internals_is_answered_without_it(users):
    with pytest.raises(grpc.RpcError) as err:
        users.UpdateUser(pb.UpdateUserRequest(user=pb.User(id=1, full_name="leak")), timeout=5)
    assert err.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "fkey" not in err.value.details() and "users" not in err.value.details()


def test_an_unusable_request_id_is_replaced_and_internal_errors_carry_one(users):
    with pytest.raises(grpc.RpcError) as err:
        users.ListUsers(pb.ListUsersRequest(), timeout=5, metadata=(("x-request-id", "bad id; with spaces"),))
    info, = details(err.value, error_details_pb2.ErrorInfo)
    assert re.fullmatch(r"[0-9a-f]{32}", info.metadata["request_id"])


def test_a_session_token_naming_an_unknown_shard_is_invalid_argument(users):
    with pytest.raises(grpc.RpcError) as err:
        users.GetUserByEmail(pb.GetUserByEmailRequest(email="a@b.co"), timeout=5, metadata=(("x-min-lsn", "mars:0/1"),))
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    bad_request, = details(err.value, error_details_pb2.BadRequest)
    assert bad_request.field_violations[0].field == "x-min-lsn"


def test_the_driver_text_goes_to_the_log_under_the_request_id_and_not_to_the_caller(users, caplog):
    with caplog.at_level("INFO", logger="shared.grpc_errors"), pytest.raises(grpc.RpcError) as err:
        users.UpdateUser(pb.UpdateUserRequest(user=pb.User(id=1, full_name="driver")), timeout=5,
                         metadata=(("x-request-id", "req-9"),))
    assert err.value.code() is grpc.StatusCode.ABORTED and "Process" not in err.value.details()
    logged, = [r for r in caplog.records if r.getMessage() == "rpc rejected"]
    assert logged.request_id == "req-9" and "Process 12 waits" in logged.cause
