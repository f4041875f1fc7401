"""How the gateway routes each public method: one declared rule per method, read by `gateway.routing`.

A rule names its strategy and, for KEYED, the request fields that locate the data: a Region field (tried
first), then int64 IDs whose encoded shard routes the call. Everything else goes to the service's default
backend without the request being parsed. tests/unit/test_route_rules.py checks that every public method has
exactly one rule and that every field it names exists with the right type.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass


class Strategy(enum.Enum):
    # The request names its data: route by its region field, else by the shard of its ID fields.
    KEYED = "keyed"
    # The call reads or writes every shard (ListCourses merges every shard's courses; CreateCategory writes
    # the category to every shard): the default backend, which fans out.
    ALL_SHARDS = "all_shards"
    # Reference data copied to every shard (categories): any backend answers from its reference shard.
    REFERENCE = "reference"
    # The request carries no routing key the gateway can read (an email, a content document ID): the
    # default backend, which finds the shard itself.
    UNKEYED = "unkeyed"


@dataclass(frozen=True)
class Rule:
    strategy: Strategy
    region: str = ""            # dotted path to a Region field
    ids: tuple[str, ...] = ()   # dotted paths to int64 IDs, in the order they are tried


def by_region(path: str, *then_ids: str) -> Rule:
    return Rule(Strategy.KEYED, region=path, ids=then_ids)


def by_id(*paths: str) -> Rule:
    return Rule(Strategy.KEYED, ids=paths)


ALL_SHARDS = Rule(Strategy.ALL_SHARDS)
REFERENCE = Rule(Strategy.REFERENCE)
UNKEYED = Rule(Strategy.UNKEYED)

USERS = "elearning.users.v1.UserService/"
COURSES = "elearning.courses.v1.CourseService/"
ENROLLMENTS = "elearning.enrollments.v1.EnrollmentService/"
PAYMENTS = "elearning.payments.v1.PaymentService/"
CONTENT = "elearning.content.v1.ContentService/"

RULES: dict[str, Rule] = {
    USERS + "CreateUser": by_region("user.region"),
    USERS + "GetUser": by_id("id"),
    USERS + "GetUserByEmail": UNKEYED,
    USERS + "ListUsers": by_region("region"),
    USERS + "UpdateUser": by_region("user.region", "user.id"),
    USERS + "DeleteUser": by_id("id"),
    # A batch's items may name every shard: it goes whole to the default backend, which splits it by shard
    # (the gateway never splits, nor retries a part of, a batch).
    USERS + "BatchCreateUsers": ALL_SHARDS,
    # Sign-in: the request names an email or an opaque token, which the users service resolves to a shard.
    USERS + "Login": UNKEYED,
    USERS + "RefreshToken": UNKEYED,
    USERS + "Logout": UNKEYED,
    USERS + "GetJwks": UNKEYED,
    USERS + "ExchangeToken": UNKEYED,

    COURSES + "CreateCategory": ALL_SHARDS,
    COURSES + "GetCategory": REFERENCE,
    COURSES + "ListCategories": REFERENCE,
    COURSES + "CreateCourse": by_region("course.region"),
    COURSES + "GetCourse": by_id("id"),
    COURSES + "ListCourses": ALL_SHARDS,
    COURSES + "UpdateCourse": by_region("course.region", "course.id"),
    COURSES + "PublishCourse": by_id("id"),
    COURSES + "DeleteCourse": by_id("id"),
    COURSES + "AddReview": by_id("course_id"),
    COURSES + "ListReviews": by_id("course_id"),
    COURSES + "GetCourseStatistics": by_id("course_id"),

    ENROLLMENTS + "Enroll": by_id("student_id"),
    ENROLLMENTS + "GetEnrollment": by_id("id"),
    ENROLLMENTS + "ListEnrollments": by_id("student_id"),
    ENROLLMENTS + "RecordLessonProgress": by_id("enrollment_id"),
    ENROLLMENTS + "ListLessonProgress": by_id("enrollment_id"),
    ENROLLMENTS + "CancelEnrollment": by_id("id"),
    ENROLLMENTS + "CountCourseEnrollments": by_id("course_id"),
    ENROLLMENTS + "BatchRecordLessonProgress": ALL_SHARDS,  # split by shard in the service, as above

    PAYMENTS + "AddPaymentMethod": by_id("payment_method.user_id"),
    PAYMENTS + "ListPaymentMethods": by_id("user_id"),
    PAYMENTS + "DeletePaymentMethod": by_id("id"),
    PAYMENTS + "CreatePayment": by_id("user_id"),
    PAYMENTS + "GetTransaction": by_id("id"),
    PAYMENTS + "ListTransactions": by_id("user_id"),
    PAYMENTS + "GetInvoice": by_id("id"),
    PAYMENTS + "RefundPayment": by_id("transaction_id"),
    PAYMENTS + "GetRevenueReport": by_region("region"),

    CONTENT + "CreateContent": by_region("content_item.region"),
    CONTENT + "GetContent": UNKEYED,
    CONTENT + "ListContent": by_id("course_id"),
    CONTENT + "UpdateContent": by_region("content_item.region"),
    CONTENT + "DeleteContent": UNKEYED,
    CONTENT + "GetPreferences": by_id("user_id"),
    CONTENT + "UpdatePreferences": by_id("preferences.user_id"),
}
