"""Helpers for payments tests: a published course, a student enrolled in it through the enrollments service,
payment methods and payments, all through the gateway; and row counts read straight from the shards."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from elearning.common.v1 import common_pb2
from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.enrollments.v1 import enrollments_service_pb2 as enrollments_pb
from elearning.enrollments.v1 import enrollments_service_pb2_grpc as enrollments_grpc
from elearning.payments.v1 import payments_service_pb2 as pb
from elearning.payments.v1 import payments_service_pb2_grpc as pb_grpc
from elearning.users.v1 import users_service_pb2 as users_pb
from tests.integration import courses_client

SHARDS = ("na", "eu", "apac")
STRONG = (("x-consistency", "strong"),)
# What a payment may write, per shard: charges and refunds, invoices, their lines, idempotency keys, paid
# enrollments, and payment methods.
COUNTS = ("SELECT (SELECT count(*) FROM transactions), (SELECT count(*) FROM invoices), "
          "(SELECT count(*) FROM invoice_line_items), (SELECT count(*) FROM idempotency_keys), "
          "(SELECT count(*) FROM enrollments WHERE payment_state <> 'UNPAID'), (SELECT count(*) FROM payment_methods)")


def stub(channel) -> pb_grpc.PaymentServiceStub:
    return pb_grpc.PaymentServiceStub(channel)


def enrollments(channel) -> enrollments_grpc.EnrollmentServiceStub:
    return enrollments_grpc.EnrollmentServiceStub(channel)


def money(amount: str, currency: str = "EUR") -> common_pb2.Money:
    return common_pb2.Money(amount=amount, currency_code=currency)


def published_course(channel, region: str = "OCEANIA", amount: str = "19.99", currency: str = "EUR"
                     ) -> courses_pb.Course:
    category = courses_client.category(channel)
    teacher = courses_client.instructor(channel, region)
    course = courses_client.course(channel, teacher.id, category.id, price=money(amount, currency))
    return courses_client.stub(channel).PublishCourse(courses_pb.PublishCourseRequest(id=course.id), timeout=5)


def student(channel, region: str = "EUROPE") -> users_pb.User:
    return courses_client.instructor(channel, region, role=users_pb.USER_ROLE_STUDENT)


def enroll(channel, student_id: int, course_id: int) -> enrollments_pb.Enrollment:
    return enrollments(channel).Enroll(enrollments_pb.EnrollRequest(student_id=student_id, course_id=course_id),
                                       timeout=10)


def card_message(user_id: int, **overrides) -> pb.PaymentMethod:
    fields = dict(user_id=user_id, kind=pb.PAYMENT_METHOD_KIND_CARD, card_brand="visa", last4="4242", exp_month=12,
                  exp_year=2099,
                  billing_name="Ana Lima", country_code="FR")
    fields.update(overrides)
    return pb.PaymentMethod(**fields)


def add_card(channel, user_id: int, token: str = "tok_visa_ok", request_id: str = "", **overrides
             ) -> pb.PaymentMethod:
    return stub(channel).AddPaymentMethod(pb.AddPaymentMethodRequest(
        payment_method=card_message(user_id, **overrides), token=token, request_id=request_id), timeout=10)


def payment_request(amount: str = "19.99", currency: str = "EUR", **fields) -> pb.CreatePaymentRequest:
    """A CreatePaymentRequest with a fresh request_id; `fields` names the IDs and may override the rest."""
    fields = {"description": "Course: Distributed Systems", "request_id": str(uuid.uuid4()), **fields}
    return pb.CreatePaymentRequest(amount=money(amount, currency), **fields)


@dataclass
class Payer:
    """A student of `region` enrolled (UNPAID) in a course, with a card on file."""

    user: users_pb.User
    enrollment: enrollments_pb.Enrollment
    card: pb.PaymentMethod

    def request(self, **overrides) -> pb.CreatePaymentRequest:
        price = self.enrollment.course_price
        fields = dict(user_id=self.user.id, enrollment_id=self.enrollment.id, payment_method_id=self.card.id,
                      amount=price.amount, currency=price.currency_code)
        return payment_request(**{**fields, **overrides})


def payer(channel, course: courses_pb.Course, region: str = "EUROPE", token: str = "tok_visa_ok") -> Payer:
    user = student(channel, region)
    return Payer(user, enroll(channel, user.id, course.id), add_card(channel, user.id, token=token))


def counts(cluster) -> dict[str, tuple]:
    return {s: cluster.query(s, "primary", COUNTS)[0] for s in SHARDS}


def payment_state(cluster, shard: str, enrollment_id: int) -> str:
    return cluster.query(shard, "primary", "SELECT payment_state FROM enrollments WHERE id = %s",
                         (enrollment_id,))[0][0]
