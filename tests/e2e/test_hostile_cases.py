"""Each hostile input issue 13 found, through the gateway: INVALID_ARGUMENT (or the right domain error) naming
the field or metadata key, the call's request ID in ErrorInfo, and no text showing how the server is built."""
from __future__ import annotations

import base64
import json
import uuid

import grpc
import pytest

from elearning.common.v1 import common_pb2
from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.payments.v1 import payments_service_pb2 as payments_pb
from elearning.users.v1 import users_service_pb2 as users_pb
from shared import pagination
from tests.e2e.hostile_requests import INTERNAL_TEXT
from tests.integration import courses_client
from tests.integration.users_client import error_info, field_violations

pytestmark = pytest.mark.cluster
USERS = "/elearning.users.v1.UserService/"
COURSES = "/elearning.courses.v1.CourseService/"
PAYMENTS = "/elearning.payments.v1.PaymentService/"


@pytest.fixture(scope="module")
def teacher_and_topic(gateway_channel):
    return courses_client.instructor(gateway_channel), courses_client.category(gateway_channel)


def rejected(channel, method: str, request, metadata=()) -> grpc.RpcError:
    payload = request if isinstance(request, bytes) else request.SerializeToString()
    with pytest.raises(grpc.RpcError) as caught:
        channel.unary_unary(method)(payload, timeout=10, metadata=metadata)
    error = caught.value
    assert not INTERNAL_TEXT.search(error.details() or ""), error.details()
    info = error_info(error)
    assert info is not None and info.metadata["request_id"], "every error names its request"
    return error


def new_user(**profile) -> users_pb.CreateUserRequest:
    return users_pb.CreateUserRequest(user=users_pb.User(
        email=f"hostile-{uuid.uuid4().hex[:10]}@example.com", full_name="Ann", region=common_pb2.REGION_EUROPE,
        profile=users_pb.UserProfile(**profile)))


def course(teacher_and_topic, **overrides) -> courses_pb.CreateCourseRequest:
    teacher, topic = teacher_and_topic
    return courses_pb.CreateCourseRequest(course=courses_client.course_message(teacher.id, topic.id, **overrides))


def test_a_nul_byte_in_a_text_field_names_the_field(gateway_channel, teacher_and_topic):
    error = rejected(gateway_channel, USERS + "CreateUser", new_user(bio="fine\x00"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert list(field_violations(error)) == ["user.profile.bio"]
    error = rejected(gateway_channel, COURSES + "CreateCourse", course(teacher_and_topic, title="Distributed\x00"))
    assert list(field_violations(error)) == ["course.title"]


@pytest.mark.parametrize("raw", [b"\x0a\x05ab", b"\x12\x03\xff\xfe\x00", b"\xff" * 9])
def test_undecodable_bytes_are_invalid_argument_through_the_gateway(gateway_channel, raw):
    for metadata in ((), (("x-region", "EUROPE"),)):  # parsed by the gateway to route, or only by the service
        error = rejected(gateway_channel, USERS + "CreateUser", raw, metadata)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "request" in field_violations(error)


@pytest.mark.parametrize("amount, reason", [("١٩.٩٩", "ASCII"), ("9" * 30, "at most"), ("1e999999", "ASCII")])
def test_prices_in_other_digits_or_past_the_column_are_refused(gateway_channel, teacher_and_topic, amount, reason):
    error = rejected(gateway_channel, COURSES + "CreateCourse",
                     course(teacher_and_topic, price=common_pb2.Money(currency_code="EUR", amount=amount)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason in field_violations(error)["course.price.amount"]


@pytest.mark.parametrize("profile, field", [(dict(time_zone="Mars/Olympus_Mons"), "user.profile.time_zone"),
                                            (dict(language="english please"), "user.profile.language")])
def test_time_zone_and_language_are_checked(gateway_channel, profile, field):
    error = rejected(gateway_channel, USERS + "CreateUser", new_user(**profile))
    assert list(field_violations(error)) == [field]


def test_revenue_times_outside_protobufs_range_name_the_field(gateway_channel):
    request = payments_pb.GetRevenueReportRequest(start_time={"seconds": 2 ** 62}, end_time={"seconds": 2 ** 62 + 5})
    error = rejected(gateway_channel, PAYMENTS + "GetRevenueReport", request)
    assert set(field_violations(error)) == {"start_time", "end_time"}


def forged(position: dict, query: dict) -> str:
    body = {"p": position, "q": pagination._fingerprint(query)}  # what a client that read our code can build
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


@pytest.mark.parametrize("position", [{"t": "2026-01-01T00:00:00+00:00", "id": 2 ** 70},
                                      {"t": "2026-01-01T00:00:00+23:59", "id": 5}])
def test_forged_page_tokens_are_invalid_argument(gateway_channel, position):
    token = forged(position, {"method": "ListCategories"})
    error = rejected(gateway_channel, COURSES + "ListCategories", courses_pb.ListCategoriesRequest(page_token=token))
    assert list(field_violations(error)) == ["page_token"]


def test_an_unknown_shard_in_the_session_token_names_the_key(gateway_channel, teacher_and_topic):
    teacher, _ = teacher_and_topic
    error = rejected(gateway_channel, USERS + "GetUser", users_pb.GetUserRequest(id=teacher.id),
                     metadata=(("x-min-lsn", "mars:0/1"),))
    assert list(field_violations(error)) == ["x-min-lsn"]


def test_a_missing_parent_category_says_so_without_the_constraint(gateway_channel):
    missing = courses_client.category(gateway_channel).id + 977  # IDs made in one millisecond differ by 1
    request = courses_pb.CreateCategoryRequest(category=courses_pb.Category(
        name="Orphan", slug=f"orphan-{uuid.uuid4().hex[:8]}", parent_id=missing))
    error = rejected(gateway_channel, COURSES + "CreateCategory", request)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(error).reason == "PARENT_CATEGORY_NOT_FOUND"


def test_the_callers_request_id_names_the_error(gateway_channel):
    error = rejected(gateway_channel, USERS + "GetUser", users_pb.GetUserRequest(id=-1),
                     metadata=(("x-request-id", "trace-abc-123"),))
    assert error_info(error).metadata["request_id"] == "trace-abc-123"
