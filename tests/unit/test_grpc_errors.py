"""shared.errors and shared.grpc_errors.to_status: domain errors and their gRPC statuses with rich details."""
import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from shared import errors
from shared.grpc_errors import internal_status, to_status

DOMAIN = "elearning.users"


def decode(status: grpc.Status) -> status_pb2.Status:
    (key, value), = status.trailing_metadata
    assert key == "grpc-status-details-bin"
    return status_pb2.Status.FromString(value)


def unpack(detail, message_type):
    message = message_type()
    assert detail.Unpack(message), f"detail is {detail.type_url}"
    return message


@pytest.mark.parametrize("exc, code", [
    (errors.InvalidArgument("f", "bad"), grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotFound("user", 42), grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists("user", "email", "a@b.co"), grpc.StatusCode.ALREADY_EXISTS),
    (errors.FailedPrecondition("course is archived"), grpc.StatusCode.FAILED_PRECONDITION),
    (errors.Aborted("stale version"), grpc.StatusCode.ABORTED),
    (errors.Unavailable("try later"), grpc.StatusCode.UNAVAILABLE),
    (errors.ShardUnavailable("eu", "primary"), grpc.StatusCode.UNAVAILABLE),
    (errors.DomainError("unmapped"), grpc.StatusCode.INTERNAL),
])
def test_codes(exc, code):
    status = to_status(exc, DOMAIN)
    assert status.code is code
    assert status.details == exc.message
    assert decode(status).code == code.value[0]


def test_invalid_argument_carries_one_field_violation_per_violation():
    exc = errors.InvalidArgument.of([errors.FieldViolation("user.email", "is required"),
                                     errors.FieldViolation("password", "too short")])
    details = decode(to_status(exc, DOMAIN)).details
    assert len(details) == 2
    bad_request = unpack(details[0], error_details_pb2.BadRequest)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("user.email", "is required"), ("password", "too short")]
    info = unpack(details[1], error_details_pb2.ErrorInfo)
    assert (info.reason, info.domain, dict(info.metadata)) == ("INVALID_ARGUMENT", DOMAIN, {"field": "user.email"})


def test_error_info_of_a_shard_error():
    details = decode(to_status(errors.ShardUnavailable("apac", "replica", "timeout"), DOMAIN)).details
    assert len(details) == 1  # no BadRequest outside INVALID_ARGUMENT
    info = unpack(details[0], error_details_pb2.ErrorInfo)
    assert (info.reason, info.domain, dict(info.metadata)) == (
        "SHARD_UNAVAILABLE", DOMAIN, {"shard": "apac", "role": "replica"})


def test_custom_reason_and_metadata():
    exc = errors.Aborted("retry", reason="CONCURRENT_UPDATE", metadata={"shard": "na", "attempt": 3})
    info = unpack(decode(to_status(exc, DOMAIN)).details[0], error_details_pb2.ErrorInfo)
    assert (info.reason, dict(info.metadata)) == ("CONCURRENT_UPDATE", {"shard": "na", "attempt": "3"})


def test_internal_status_hides_the_cause():
    status = internal_status(DOMAIN)
    assert (status.code, status.details) == (grpc.StatusCode.INTERNAL, "internal error; see the service log")
    info = unpack(decode(status).details[0], error_details_pb2.ErrorInfo)
    assert (info.reason, info.domain) == ("INTERNAL", DOMAIN)


def test_domain_error_messages():
    assert str(errors.NotFound("user", 7)) == "user 7 not found"
    assert str(errors.AlreadyExists("user", "email", "a@b.co")) == "user with email a@b.co already exists"
    assert str(errors.ShardUnavailable("eu", "primary", "refused")) == "shard eu (primary) is unavailable: refused"
    assert errors.InvalidArgument("a", "x", more=[errors.FieldViolation("b", "y")]).message == "a: x; b: y"


def test_violations_collect_then_raise_all():
    violations = errors.Violations()
    violations.raise_if_any()  # nothing collected: no error
    violations.add("a", "x")
    violations.add("b.c", "y")
    with pytest.raises(errors.InvalidArgument) as err:
        violations.raise_if_any()
    assert [(v.field, v.description) for v in err.value.violations] == [("a", "x"), ("b.c", "y")]


@pytest.mark.parametrize("text", ["failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:50062",
                                  "10.1.2.3:5432 refused", "[Errno 111] Connection refused"])
def test_an_address_of_the_cluster_is_internal_text(text):
    status = to_status(errors.Unavailable(f"cannot check course: {text}"), "elearning.test")
    assert "127.0.0.1" not in status.details and "10.1.2.3" not in status.details
    assert "Connection refused" not in status.details
