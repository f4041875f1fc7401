"""The deliberately invalid requests, each of a named kind with the status a correct system answers."""
from __future__ import annotations

import time
from collections.abc import Callable

from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.enrollments.v1 import enrollments_service_pb2 as enrollments_pb
from elearning.users.v1 import users_service_pb2 as users_pb
from loaddriver import mix
from loaddriver.mix import Context
from loaddriver.plan import Planned
from shared import ids
from shared.proto_values import region_value

SHARD_NUMBER = {"NORTH_AMERICA": 1, "SOUTH_AMERICA": 1, "EUROPE": 2, "AFRICA": 2, "ASIA": 3, "OCEANIA": 3}


def _missing_id(ctx: Context, region: str) -> int:
    """A well-formed ID on the shard of `region` that no row has (its sequence bits are random)."""
    return ids.encode(int(time.time() * 1000) - 86_400_000, SHARD_NUMBER[region],
                      ctx.data.rng.randrange(ids.MAX_SEQUENCE + 1))


def _user(ctx: Context, kind: str, expected: str, **fields) -> Planned:
    region = fields.pop("region", ctx.data.region())
    name, email = ctx.data.person(region, ctx.new_request_id())
    user = users_pb.User(email=fields.pop("email", email), full_name=fields.pop("full_name", name),
                         region=region_value(region))
    return Planned("CreateUser", "users", users_pb.CreateUserRequest(
        user=user, request_id=fields.pop("request_id", ctx.new_request_id())), expected=expected, kind=kind,
        region=region)


def blank_name(ctx: Context) -> Planned:
    return _user(ctx, "blank_name", "INVALID_ARGUMENT", full_name="   ")


def malformed_email(ctx: Context) -> Planned:
    return _user(ctx, "malformed_email", "INVALID_ARGUMENT", email="not-an-email")


def duplicate_email(ctx: Context) -> Planned:
    existing = ctx.pool.pick("students", ctx.data.rng)
    if existing is None:
        return mix.create_user(ctx)
    other = ctx.data.rng.choice([r for r in SHARD_NUMBER if r != existing.region])
    return _user(ctx, "duplicate_email", "ALREADY_EXISTS", email=existing.email.upper(), region=other)


def reused_request_id(ctx: Context) -> Planned:
    earlier = ctx.pool.pick("used_request_ids", ctx.data.rng)
    if earlier is None:
        return mix.create_user(ctx)
    request_id, region = earlier
    return _user(ctx, "reused_request_id", "INVALID_ARGUMENT", request_id=request_id, region=region)


def negative_price(ctx: Context) -> Planned:
    planned = mix.create_course(ctx)
    if planned.rpc != "CreateCourse":
        return planned
    planned.request.course.price.amount = f"-{ctx.data.rng.randint(1, 99)}.00"
    planned.kind, planned.expected, planned.on_ok = "negative_price", "INVALID_ARGUMENT", None
    return planned


def nonpositive_quantity(ctx: Context) -> Planned:
    planned = mix.record_progress(ctx)
    if planned.rpc == "BatchRecordLessonProgress":  # one bad item rejects the whole batch
        bad = ctx.data.rng.choice(planned.request.requests)
        bad.watched_seconds = -ctx.data.rng.randint(1, 600)
    elif planned.rpc == "RecordLessonProgress":
        planned.request.watched_seconds = -ctx.data.rng.randint(0, 600) or -1
    else:
        return planned
    planned.kind, planned.expected, planned.on_ok = "nonpositive_quantity", "INVALID_ARGUMENT", None
    return planned


def unknown_user(ctx: Context) -> Planned:
    course = ctx.pool.pick("courses", ctx.data.rng)
    if course is None:
        return mix.create_course(ctx)
    region = ctx.data.region()
    return Planned("Enroll", "enrollments", enrollments_pb.EnrollRequest(
        student_id=_missing_id(ctx, region), course_id=course.id, request_id=ctx.new_request_id()),
        expected="FAILED_PRECONDITION", kind="unknown_user", region=region)


def unknown_course(ctx: Context) -> Planned:
    student = ctx.pool.pick("students", ctx.data.rng)
    if student is None:
        return mix.create_user(ctx)
    return Planned("Enroll", "enrollments", enrollments_pb.EnrollRequest(
        student_id=student.id, course_id=_missing_id(ctx, ctx.data.region()), request_id=ctx.new_request_id()),
        expected="FAILED_PRECONDITION", kind="unknown_course", region=student.region)


def rating_out_of_range(ctx: Context) -> Planned:
    enrollment = ctx.pool.pick("enrollments", ctx.data.rng)
    if enrollment is None:
        return mix.enroll(ctx)
    rating = ctx.data.rng.choice((0, 6, 7, 10, -1))
    return Planned("AddReview", "courses", courses_pb.AddReviewRequest(
        course_id=enrollment.course.id, review=courses_pb.Review(student_id=enrollment.student_id, rating=rating),
        request_id=ctx.new_request_id()), expected="INVALID_ARGUMENT", kind="rating_out_of_range")


KINDS: dict[str, Callable[[Context], Planned]] = {
    "blank_name": blank_name,
    "malformed_email": malformed_email,
    "duplicate_email": duplicate_email,
    "negative_price": negative_price,
    "nonpositive_quantity": nonpositive_quantity,
    "unknown_user": unknown_user,
    "unknown_course": unknown_course,
    "rating_out_of_range": rating_out_of_range,
    "reused_request_id": reused_request_id,
}
