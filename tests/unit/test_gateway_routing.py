"""gateway.routing: which fields route a request, and which backend a call reaches."""
from __future__ import annotations

import pytest

from elearning.common.v1 import common_pb2
from elearning.enrollments.v1 import enrollments_service_pb2 as enrollments
from elearning.payments.v1 import payments_service_pb2 as payments
from elearning.users.v1 import users_service_pb2 as users
from gateway.catalog import public_methods
from gateway.proxy import is_read
from gateway.routing import ANY, MethodRouter, Routes
from shared import ids
from shared.errors import InvalidArgument, Unavailable
from shared.settings import load_settings

USERS = "/elearning.users.v1.UserService/"


def eu_id() -> int:
    return ids.encode(ids.EPOCH_MS + 5, 2, 7)


@pytest.fixture
def router():
    settings = load_settings("gateway", {"ELEARN_TLS_INSECURE": "1"})
    table = {"users": {"default": "users-any", "EUROPE": "users-europe", "apac": "users-apac"},
             "enrollments": {"na": "enrollments-na"}, "payments": {"default": "payments-any"},
             "courses": {"default": "courses-any"}, "content": {"default": "content-any"}}
    return MethodRouter(Routes(table, settings.shard_map), public_methods())


def test_the_declared_fields_route_each_request(router):
    enroll = enrollments.EnrollRequest(student_id=ids.encode(ids.EPOCH_MS + 5, 1, 7)).SerializeToString()
    assert router.target("/elearning.enrollments.v1.EnrollmentService/Enroll", enroll, None).address == "enrollments-na"
    pay = payments.CreatePaymentRequest(user_id=eu_id()).SerializeToString()
    assert router.target("/elearning.payments.v1.PaymentService/CreatePayment", pay, None).shard == "eu"
    method = payments.AddPaymentMethodRequest(payment_method=payments.PaymentMethod(user_id=eu_id()))
    assert router.target("/elearning.payments.v1.PaymentService/AddPaymentMethod", method.SerializeToString(),
                         None).shard == "eu"


def test_the_x_region_header_wins_over_the_body(router):
    body = users.CreateUserRequest(user=users.User(region=common_pb2.REGION_ASIA)).SerializeToString()
    target = router.target(USERS + "CreateUser", body, "europe")
    assert (target.address, target.region, target.shard) == ("users-europe", "EUROPE", "eu")


def test_an_unknown_x_region_is_invalid_argument_naming_it(router):
    with pytest.raises(InvalidArgument) as caught:
        router.target(USERS + "GetUser", b"", "MARS")
    assert caught.value.violations[0].field == "x-region"


def test_the_request_region_routes_by_region_then_shard(router):
    asia = users.CreateUserRequest(user=users.User(region=common_pb2.REGION_ASIA)).SerializeToString()
    africa = users.ListUsersRequest(region=common_pb2.REGION_AFRICA).SerializeToString()
    assert router.target(USERS + "CreateUser", asia, None).address == "users-apac"  # by shard apac
    target = router.target(USERS + "ListUsers", africa, None)
    assert (target.address, target.region, target.shard) == ("users-any", "AFRICA", "eu")  # default


def test_the_id_routes_by_its_encoded_shard(router):
    target = router.target(USERS + "GetUser", users.GetUserRequest(id=eu_id()).SerializeToString(), None)
    assert (target.region, target.shard, target.address) == (ANY, "eu", "users-any")
    update = users.UpdateUserRequest(user=users.User(id=eu_id())).SerializeToString()
    assert router.target(USERS + "UpdateUser", update, None).shard == "eu"


def test_no_routing_key_or_a_malformed_id_goes_to_the_default(router):
    by_email = users.GetUserByEmailRequest(email="a@b.co").SerializeToString()
    assert router.target(USERS + "GetUserByEmail", by_email, None).shard == ANY
    assert router.target(USERS + "GetUser", users.GetUserRequest(id=1).SerializeToString(), None).shard == ANY


def test_a_region_without_a_backend_is_unavailable_naming_it(router):
    method = "/elearning.enrollments.v1.EnrollmentService/ListEnrollments"
    with pytest.raises(Unavailable, match="region EUROPE"):
        router.target(method, b"", "EUROPE")
    ok = router.target(method, b"", "SOUTH_AMERICA")
    assert (ok.address, ok.shard) == ("enrollments-na", "na")


def test_garbage_bytes_are_invalid_argument(router):
    with pytest.raises(InvalidArgument):
        router.target(USERS + "GetUser", b"\xff\xff\xff", None)


def test_only_get_and_list_are_reads():
    assert is_read(USERS + "GetUser") and is_read(USERS + "ListUsers")
    assert not is_read(USERS + "CreateUser") and not is_read(USERS + "DeleteUser")


def test_request_id_presence_decides_create_retries(router):
    with_id = users.CreateUserRequest(request_id="r-1").SerializeToString()
    assert router.has_request_id(USERS + "CreateUser", with_id)
    assert not router.has_request_id(USERS + "CreateUser", users.CreateUserRequest().SerializeToString())
    assert not router.has_request_id(USERS + "UpdateUser", users.UpdateUserRequest().SerializeToString())


def test_a_target_is_resolved_once_and_a_bad_region_is_refused_every_time(router):
    method = "/elearning.enrollments.v1.EnrollmentService/GetEnrollment"
    request = enrollments.GetEnrollmentRequest(id=ids.encode(ids.EPOCH_MS + 5, 1, 7)).SerializeToString()
    first, again = router.target(method, request, None), router.target(method, request, None)
    assert first is again
    assert first.trailers == (("x-region", first.region), ("x-shard", "na"))
    for _ in range(2):
        with pytest.raises(InvalidArgument):
            router.target(method, request, "MARS")
