"""A client team's first program against elearn-data: sign up, sign in, enroll in a course, pay, read it all back.

It uses only the generated stubs in `elearning/` and the gateway's address:

    .venv/bin/python examples/client_walkthrough.py --gateway 127.0.0.1:50051 --ca .elearn/tls/ca.crt \
        --admin-token "$(elearn token --role ADMIN)"

The gateway speaks TLS: `--ca` is the CA that signed its certificate (`elearn up` makes it in the data
folder); `--plaintext` only for a cluster started with `elearn up --insecure`.

Signing up and reading the published catalogue need no token; everything else sends the access token that
Login returned as `authorization: Bearer <token>` metadata (here through a channel interceptor), and a
student may touch only their own data. The admin token is used only to make a course on an empty cluster.

Every create carries a fresh `request_id`, so a retry after a timeout cannot create twice. Reads go to a
replica unless the call carries the metadata `x-consistency: strong`; send it on a read that must see a
write you just made (here: the enrollment's payment state, the charge and its invoice), since a replica may
be a few milliseconds behind its primary.
"""
from __future__ import annotations

import argparse
import sys
import uuid

import grpc

from elearning.common.v1 import common_pb2
from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.courses.v1 import courses_service_pb2_grpc as courses_grpc
from elearning.enrollments.v1 import enrollments_service_pb2 as enrollments_pb
from elearning.enrollments.v1 import enrollments_service_pb2_grpc as enrollments_grpc
from elearning.payments.v1 import payments_service_pb2 as payments_pb
from elearning.payments.v1 import payments_service_pb2_grpc as payments_grpc
from elearning.users.v1 import users_service_pb2 as users_pb
from elearning.users.v1 import users_service_pb2_grpc as users_grpc
from shared.proto_values import enum_name

STRONG = (("x-consistency", "strong"),)  # read-your-writes: this read goes to the shard's primary
TIMEOUT_S = 10


def new_request_id() -> str:
    return str(uuid.uuid4())


class Bearer(grpc.UnaryUnaryClientInterceptor):
    """Sends `authorization: Bearer <token>` with every call of the channel."""

    def __init__(self, token: str):
        self.header = ("authorization", f"Bearer {token}")

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(details._replace(metadata=[*(details.metadata or ()), self.header]), request)


def signed_in(channel: grpc.Channel, token: str) -> grpc.Channel:
    return grpc.intercept_channel(channel, Bearer(token))


def published_course(channel: grpc.Channel, tag: str, admin_token: str | None) -> courses_pb.Course:
    """A published course: the first one listed (anyone may read the catalogue), or a small one made here
    with the admin's token on an empty cluster."""
    listed = courses_grpc.CourseServiceStub(channel).ListCourses(
        courses_pb.ListCoursesRequest(state=courses_pb.COURSE_STATE_PUBLISHED, page_size=1), timeout=TIMEOUT_S).courses
    if listed:
        return listed[0]
    if not admin_token:
        raise SystemExit("no published course yet: pass --admin-token to make one")
    channel = signed_in(channel, admin_token)
    courses = courses_grpc.CourseServiceStub(channel)
    teacher = users_grpc.UserServiceStub(channel).CreateUser(users_pb.CreateUserRequest(
        user=users_pb.User(email=f"teacher-{tag}@example.com", full_name="Walkthrough Teacher",
                           region=common_pb2.REGION_ASIA, role=users_pb.USER_ROLE_INSTRUCTOR),
        request_id=new_request_id()), timeout=TIMEOUT_S)
    category = courses.CreateCategory(courses_pb.CreateCategoryRequest(
        category=courses_pb.Category(name="Walkthrough", slug=f"walkthrough-{tag}"), request_id=new_request_id()),
        timeout=TIMEOUT_S)
    course = courses.CreateCourse(courses_pb.CreateCourseRequest(course=courses_pb.Course(
        instructor_id=teacher.id, category_id=category.id, title="gRPC in Practice", language="en",
        level=courses_pb.COURSE_LEVEL_BEGINNER, price=common_pb2.Money(currency_code="EUR", amount="29.00"),
        modules=[courses_pb.Module(title="Basics", lessons=[
            courses_pb.Lesson(title="Channels and stubs", kind=courses_pb.LESSON_KIND_VIDEO, duration_seconds=420)])]),
        request_id=new_request_id()), timeout=TIMEOUT_S)
    return courses.PublishCourse(courses_pb.PublishCourseRequest(id=course.id), timeout=TIMEOUT_S)


def open_gateway(gateway: str, ca: str | None) -> grpc.Channel:
    """TLS, trusting only the deployment's CA (no client certificate: the gateway's port is public)."""
    if ca is None:
        return grpc.insecure_channel(gateway)
    with open(ca, "rb") as pem:
        return grpc.secure_channel(gateway, grpc.ssl_channel_credentials(root_certificates=pem.read()))


def walk(gateway: str, ca: str | None, admin_token: str | None) -> None:
    tag = uuid.uuid4().hex[:8]
    with open_gateway(gateway, ca) as anonymous:
        password = f"walkthrough-{uuid.uuid4().hex}"
        user = users_grpc.UserServiceStub(anonymous).CreateUser(users_pb.CreateUserRequest(
            user=users_pb.User(email=f"ana-{tag}@example.com", full_name="Ana Lima", region=common_pb2.REGION_EUROPE),
            password=password, request_id=new_request_id()), timeout=TIMEOUT_S)
        session = users_grpc.UserServiceStub(anonymous).Login(
            users_pb.LoginRequest(email=user.email, password=password), timeout=TIMEOUT_S)
        region = enum_name(common_pb2.Region, user.region, "region")
        print(f"1. signed up and in as user {user.id} ({user.email}) in {region}")

        course = published_course(anonymous, tag, admin_token)
        channel = signed_in(anonymous, session.access_token)
        users = users_grpc.UserServiceStub(channel)
        enrollments = enrollments_grpc.EnrollmentServiceStub(channel)
        payments = payments_grpc.PaymentServiceStub(channel)
        print(f"2. chose course {course.id} \"{course.title}\" at {course.price.amount} {course.price.currency_code}")

        enrollment = enrollments.Enroll(enrollments_pb.EnrollRequest(
            student_id=user.id, course_id=course.id, request_id=new_request_id()), timeout=TIMEOUT_S)
        print(f"3. enrolled: enrollment {enrollment.id}, "
              f"{enum_name(enrollments_pb.PaymentState, enrollment.payment_state, 'payment_state')}, to pay "
              f"{enrollment.course_price.amount} {enrollment.course_price.currency_code}")

        method = payments.AddPaymentMethod(payments_pb.AddPaymentMethodRequest(
            payment_method=payments_pb.PaymentMethod(
                user_id=user.id, kind=payments_pb.PAYMENT_METHOD_KIND_CARD, card_brand="visa", last4="4242",
                exp_month=12, exp_year=2035, billing_name=user.full_name, country_code="PT"),
            token=f"tok_visa_{tag}", request_id=new_request_id()), timeout=TIMEOUT_S)
        paid = payments.CreatePayment(payments_pb.CreatePaymentRequest(
            user_id=user.id, enrollment_id=enrollment.id, payment_method_id=method.id,
            amount=enrollment.course_price, description=f"Course: {enrollment.course_title}",
            request_id=new_request_id()), timeout=TIMEOUT_S)
        print(f"4. paid with card ...{method.last4}: charge {paid.transaction.id} "
              f"{enum_name(payments_pb.TransactionStatus, paid.transaction.status, 'status')}, "
              f"invoice {paid.invoice.invoice_number}")

        # Read-your-writes: without STRONG these reads could come from a replica that has not replayed the
        # payment yet and show the enrollment UNPAID.
        mine = enrollments.ListEnrollments(enrollments_pb.ListEnrollmentsRequest(student_id=user.id),
                                           timeout=TIMEOUT_S, metadata=STRONG).enrollments
        invoice = payments.GetInvoice(payments_pb.GetInvoiceRequest(id=paid.invoice.id), timeout=TIMEOUT_S,
                                      metadata=STRONG)
        again = users.GetUser(users_pb.GetUserRequest(id=user.id), timeout=TIMEOUT_S)
        print(f"5. read back: {again.full_name} has {len(mine)} enrollment(s): "
              + ", ".join(f"{e.course_title} ({enum_name(enrollments_pb.PaymentState, e.payment_state, 'state')})"
                          for e in mine)
              + f"; invoice {invoice.invoice_number} totals {invoice.total.amount} {invoice.total.currency_code}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", default="127.0.0.1:50051", help="the gateway's host:port")
    trust = parser.add_mutually_exclusive_group(required=True)
    trust.add_argument("--ca", help="the CA certificate that signed the gateway's (e.g. .elearn/tls/ca.crt)")
    trust.add_argument("--plaintext", action="store_true", help="no TLS (a cluster up with --insecure)")
    parser.add_argument("--admin-token", help="an admin's token, used only to make a course on an empty cluster")
    args = parser.parse_args(argv)
    try:
        walk(args.gateway, args.ca, args.admin_token)
    except grpc.RpcError as exc:
        print(f"failed: {exc.code().name}: {exc.details()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
