"""Who may call each public method: one line per method, in one table.

`allow` names the identities that may call: anonymous, student, instructor, admin, service:<name>.
`owner` is a request field that must hold the caller's own user ID when the caller is a student or an
instructor (checked before the call: PERMISSION_DENIED, which reveals nothing since nothing was looked up).
`reply_owner` is a field of the reply that must hold the caller's ID, else the reply is NOT_FOUND (reads of
a resource named by its own ID, whose existence must not leak). `in_service` says which ownership rule the
service itself applies to the resource it loads (also NOT_FOUND), for the reader; tests hold each to it.
Admins and the listed services are bound by neither ownership rule.
"""
from __future__ import annotations

from dataclasses import dataclass

ANONYMOUS, STUDENT, INSTRUCTOR, ADMIN = "anonymous", "student", "instructor", "admin"
USERS = frozenset({STUDENT, INSTRUCTOR, ADMIN})
ANYONE = USERS | {ANONYMOUS}
ADMINS = frozenset({ADMIN})
TEACHERS = frozenset({INSTRUCTOR, ADMIN})
SSO = "service:sso"


@dataclass(frozen=True)
class Rule:
    allow: frozenset[str]
    owner: str = ""
    reply_owner: str = ""
    hidden_as: tuple[str, str] = ("", "")  # the (resource, request key field) a hidden reply is NOT_FOUND as
    in_service: str = ""


def _svc(*names: str) -> frozenset[str]:
    return frozenset(f"service:{n}" for n in names)


U, C, E, P, K = (f"/elearning.{s}.v1.{n}Service/" for s, n in (
    ("users", "User"), ("courses", "Course"), ("enrollments", "Enrollment"), ("payments", "Payment"),
    ("content", "Content")))

RULES: dict[str, Rule] = {
    # users: sign up and sign in anonymously; a person sees and changes only their own account
    U + "CreateUser": Rule(ANYONE, in_service="only an admin creates a non-STUDENT account"),
    U + "GetUser": Rule(USERS | _svc("content"), owner="id"),
    U + "GetUserByEmail": Rule(USERS, reply_owner="id", hidden_as=("user", "email")),
    U + "ListUsers": Rule(ADMINS),
    U + "UpdateUser": Rule(USERS, owner="user.id", in_service="only an admin changes a role"),
    U + "DeleteUser": Rule(USERS, owner="id"),
    U + "Login": Rule(ANYONE),
    U + "RefreshToken": Rule(ANYONE),
    U + "Logout": Rule(ANYONE),
    U + "GetJwks": Rule(ANYONE),
    U + "ExchangeToken": Rule(frozenset({SSO})),
    # Imports (a school's students, single-sign-on accounts): an admin's or the sso service's job.
    U + "BatchCreateUsers": Rule(ADMINS | {SSO}),
    # courses: the published catalogue is public; an instructor manages only their own courses
    C + "CreateCategory": Rule(ADMINS),
    C + "GetCategory": Rule(ANYONE),
    C + "ListCategories": Rule(ANYONE),
    C + "CreateCourse": Rule(TEACHERS, owner="course.instructor_id"),
    C + "GetCourse": Rule(ANYONE | _svc("content", "enrollments", "payments"),
                          in_service="a draft only to its instructor"),
    C + "ListCourses": Rule(ANYONE, in_service="drafts only to their instructor"),
    C + "UpdateCourse": Rule(TEACHERS, in_service="the course's instructor"),
    C + "PublishCourse": Rule(TEACHERS, in_service="the course's instructor"),
    C + "DeleteCourse": Rule(TEACHERS, in_service="the course's instructor"),
    C + "AddReview": Rule(frozenset({STUDENT, ADMIN}), owner="review.student_id"),
    C + "ListReviews": Rule(ANYONE),
    C + "GetCourseStatistics": Rule(TEACHERS, in_service="the course's instructor"),
    # enrollments: a student's own
    E + "Enroll": Rule(USERS, owner="student_id"),
    E + "GetEnrollment": Rule(USERS, reply_owner="student_id", hidden_as=("enrollment", "id")),
    E + "ListEnrollments": Rule(USERS | _svc("courses"), owner="student_id"),
    E + "RecordLessonProgress": Rule(USERS, in_service="the enrollment's student"),
    # Items of any students: for admins (imports, the load driver), whose calls need no per-item ownership.
    E + "BatchRecordLessonProgress": Rule(ADMINS),
    E + "ListLessonProgress": Rule(USERS, in_service="the enrollment's student"),
    E + "CancelEnrollment": Rule(USERS, in_service="the enrollment's student"),
    E + "CountCourseEnrollments": Rule(ADMINS | _svc("courses")),
    # payments: a person's own cards, payments and invoices; refunds and revenue are the admin's
    P + "AddPaymentMethod": Rule(USERS, owner="payment_method.user_id"),
    P + "ListPaymentMethods": Rule(USERS, owner="user_id"),
    P + "DeletePaymentMethod": Rule(USERS, in_service="the card's owner"),
    P + "CreatePayment": Rule(USERS, owner="user_id"),
    P + "GetTransaction": Rule(USERS, reply_owner="user_id", hidden_as=("transaction", "id")),
    P + "ListTransactions": Rule(USERS, owner="user_id"),
    P + "GetInvoice": Rule(USERS, reply_owner="user_id", hidden_as=("invoice", "id")),
    P + "RefundPayment": Rule(ADMINS),
    P + "GetRevenueReport": Rule(ADMINS),
    # content: readable by anyone signed in; written by the course's instructor; preferences are one's own
    K + "CreateContent": Rule(TEACHERS, in_service="the course's instructor"),
    K + "GetContent": Rule(USERS),
    K + "ListContent": Rule(USERS),
    K + "UpdateContent": Rule(TEACHERS, in_service="the course's instructor"),
    K + "DeleteContent": Rule(TEACHERS, in_service="the course's instructor"),
    K + "GetPreferences": Rule(USERS, owner="user_id"),
    K + "UpdatePreferences": Rule(USERS, owner="preferences.user_id"),
}
# Methods outside the elearning API that every caller may use: probes and tooling.
OPEN_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
GUARDED_PREFIX = "/elearning."


def rule_for(method: str) -> Rule | None:
    """The method's rule; None for an elearning method without one (denied: the table fails closed)."""
    return RULES.get(method)


def is_guarded(method: str) -> bool:
    return method.startswith(GUARDED_PREFIX)
