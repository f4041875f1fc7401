"""The weighted mix of RPCs, declared as one table: creates, and reads of what the creates made.

Each operation plans one call from what the run has created so far (the Pool); when its prerequisite is
missing (no course to enroll in yet) it plans the prerequisite instead, so any mix works from an empty
cluster. Reads expect OK: the run's session token makes them see every create whose ID reached the Pool.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf import field_mask_pb2

from elearning.common.v1 import common_pb2
from elearning.content.v1 import content_service_pb2 as content_pb
from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.enrollments.v1 import enrollments_service_pb2 as enrollments_pb
from elearning.payments.v1 import payments_service_pb2 as payments_pb
from elearning.users.v1 import users_service_pb2 as users_pb
from loaddriver.data import DataMaker
from loaddriver.plan import Planned
from loaddriver.pool import CourseRef, EnrollmentRef, Person, Pool
from shared.proto_values import region_value

LEVELS = (courses_pb.COURSE_LEVEL_BEGINNER, courses_pb.COURSE_LEVEL_INTERMEDIATE, courses_pb.COURSE_LEVEL_ADVANCED)


@dataclass
class Context:
    """What an operation may use: the worker's data maker, the shared pool, and fresh request IDs."""

    data: DataMaker
    pool: Pool
    new_request_id: Callable[[], str]
    content_enabled: bool = True
    batch_size: int = 1  # above 1, users and lesson progress are written by batch calls of this many items


def create_user(ctx: Context, role: int = users_pb.USER_ROLE_STUDENT) -> Planned:
    if ctx.batch_size > 1 and role == users_pb.USER_ROLE_STUDENT:
        return batch_create_users(ctx)
    region = ctx.data.region()
    request_id = ctx.new_request_id()
    name, email = ctx.data.person(region, request_id)
    bucket = "instructors" if role == users_pb.USER_ROLE_INSTRUCTOR else "students"

    def remember(user: users_pb.User) -> None:
        ctx.pool.add(bucket, Person(user.id, region, user.email))
        ctx.pool.add("used_request_ids", (request_id, region))

    return Planned("CreateUser", "users", users_pb.CreateUserRequest(
        user=users_pb.User(email=email, full_name=name, region=region_value(region), role=role),
        request_id=request_id), region=region, on_ok=remember)


def batch_create_users(ctx: Context) -> Planned:
    """BatchCreateUsers of `batch_size` students over every region (a school's sign-ups)."""
    people = []
    for _ in range(ctx.batch_size):
        region = ctx.data.region()
        name, email = ctx.data.person(region, ctx.new_request_id())
        people.append((region, users_pb.CreateUserRequest(user=users_pb.User(
            email=email, full_name=name, region=region_value(region), role=users_pb.USER_ROLE_STUDENT))))

    def remember(response: users_pb.BatchCreateUsersResponse) -> None:
        for (region, _), result in zip(people, response.results, strict=False):
            if result.status.code == 0:
                ctx.pool.add("students", Person(result.user.id, region, result.user.email))

    return Planned("BatchCreateUsers", "users", users_pb.BatchCreateUsersRequest(
        requests=[request for _, request in people], request_id=ctx.new_request_id()), on_ok=remember,
        items=ctx.batch_size)


def create_instructor(ctx: Context) -> Planned:
    return create_user(ctx, users_pb.USER_ROLE_INSTRUCTOR)


def create_course(ctx: Context) -> Planned:
    teacher = ctx.pool.pick("instructors", ctx.data.rng)
    category = ctx.pool.pick("categories", ctx.data.rng)
    if teacher is None or category is None:
        return create_instructor(ctx)
    title, amount, currency, modules = ctx.data.course(teacher.region)

    def publish(course: courses_pb.Course) -> Planned:
        lessons = tuple(lesson.id for m in course.modules for lesson in m.lessons)
        ref = CourseRef(course.id, teacher.region, lessons, amount, currency)
        return Planned("PublishCourse", "courses", courses_pb.PublishCourseRequest(id=course.id),
                       region=teacher.region, on_ok=lambda _c: ctx.pool.add("courses", ref))

    return Planned("CreateCourse", "courses", courses_pb.CreateCourseRequest(course=courses_pb.Course(
        instructor_id=teacher.id, category_id=category, title=title, language="en",
        level=ctx.data.rng.choice(LEVELS),
        price=common_pb2.Money(currency_code=currency, amount=amount), modules=modules),
        request_id=ctx.new_request_id()), region=teacher.region, on_ok=publish)


def enroll(ctx: Context) -> Planned:
    student = ctx.pool.pick("students", ctx.data.rng)
    course = ctx.pool.pick("courses", ctx.data.rng)
    if student is None:
        return create_user(ctx)
    if course is None:
        return create_course(ctx)

    def remember(enrollment: enrollments_pb.Enrollment) -> None:
        ref = EnrollmentRef(enrollment.id, student.id, course)
        ctx.pool.add("enrollments", ref)
        if enrollment.payment_state == enrollments_pb.PAYMENT_STATE_UNPAID:
            ctx.pool.add("unpaid", ref)

    if not ctx.pool.claim("enrolled", (student.id, course.id)):
        return create_user(ctx)  # already enrolled: do something else this turn
    return Planned("Enroll", "enrollments", enrollments_pb.EnrollRequest(
        student_id=student.id, course_id=course.id, request_id=ctx.new_request_id()), region=student.region,
        on_ok=remember)


def record_progress(ctx: Context) -> Planned:
    enrollment = ctx.pool.pick("enrollments", ctx.data.rng)
    if enrollment is None:
        return enroll(ctx)
    if ctx.batch_size > 1:
        return batch_record_progress(ctx)
    rng = ctx.data.rng
    watched = rng.randint(30, 1500)
    return Planned("RecordLessonProgress", "enrollments", enrollments_pb.RecordLessonProgressRequest(
        enrollment_id=enrollment.id, lesson_id=rng.choice(enrollment.course.lesson_ids), watched_seconds=watched,
        position_seconds=watched, completed=rng.random() < 0.4))


def batch_record_progress(ctx: Context) -> Planned:
    """BatchRecordLessonProgress of `batch_size` heartbeats of enrollments of any students (any shards), asking
    only for each item's status, as a video player does (read_mask)."""
    rng = ctx.data.rng
    items = []
    for _ in range(ctx.batch_size):
        enrollment = ctx.pool.pick("enrollments", rng)
        watched = rng.randint(30, 1500)
        items.append(enrollments_pb.RecordLessonProgressRequest(
            enrollment_id=enrollment.id, lesson_id=rng.choice(enrollment.course.lesson_ids),
            watched_seconds=watched, position_seconds=watched, completed=rng.random() < 0.4))
    return Planned("BatchRecordLessonProgress", "enrollments", enrollments_pb.BatchRecordLessonProgressRequest(
        requests=items, read_mask=field_mask_pb2.FieldMask(paths=["status"])), items=ctx.batch_size)


def pay(ctx: Context) -> Planned:
    enrollment = ctx.pool.take_unpaid(ctx.data.rng)
    if enrollment is None:
        return enroll(ctx)
    card = ctx.pool.card_of(enrollment.student_id)
    if card is None:
        ctx.pool.add("unpaid", enrollment)  # paid on a later turn, once the card exists
        return add_card(ctx, enrollment.student_id)
    return Planned("CreatePayment", "payments", payments_pb.CreatePaymentRequest(
        user_id=enrollment.student_id, enrollment_id=enrollment.id, payment_method_id=card,
        amount=common_pb2.Money(currency_code=enrollment.course.currency, amount=enrollment.course.amount),
        description=f"Course {enrollment.course.id}", request_id=ctx.new_request_id()))


def add_card(ctx: Context, user_id: int) -> Planned:
    rng = ctx.data.rng
    return Planned("AddPaymentMethod", "payments", payments_pb.AddPaymentMethodRequest(
        payment_method=payments_pb.PaymentMethod(
            user_id=user_id, kind=payments_pb.PAYMENT_METHOD_KIND_CARD, card_brand=rng.choice(("visa", "mastercard")),
            last4=f"{rng.randint(0, 9999):04d}", exp_month=rng.randint(1, 12), exp_year=2031,
            billing_name="Card Holder", country_code="FR"),
        token=f"tok_load_{ctx.new_request_id()}", request_id=ctx.new_request_id()),
        on_ok=lambda method: ctx.pool.set_card(user_id, method.id))


def review(ctx: Context) -> Planned:
    enrollment = ctx.pool.pick("enrollments", ctx.data.rng)
    if enrollment is None or not ctx.pool.claim("reviewed", (enrollment.student_id, enrollment.course.id)):
        return record_progress(ctx)
    return Planned("AddReview", "courses", courses_pb.AddReviewRequest(
        course_id=enrollment.course.id, review=courses_pb.Review(
            student_id=enrollment.student_id, rating=ctx.data.rng.randint(1, 5), comment=ctx.data.sentence()),
        request_id=ctx.new_request_id()))


def create_content(ctx: Context) -> Planned:
    course = ctx.pool.pick("courses", ctx.data.rng)
    if course is None or not ctx.content_enabled:
        return create_course(ctx) if ctx.content_enabled else record_progress(ctx)
    rng = ctx.data.rng
    item = content_pb.ContentItem(course_id=course.id, lesson_id=rng.choice(course.lesson_ids),
                                  title=ctx.data.sentence(course.region)[:120], tags=["load"],
                                  position=rng.randint(1, 5))
    if rng.random() < 0.6:
        item.kind = content_pb.CONTENT_KIND_VIDEO
        item.video.CopyFrom(content_pb.VideoDetails(duration_seconds=rng.randint(60, 3600),
                                                    storage_url=f"https://cdn.example.com/v/{rng.getrandbits(48):x}.mp4"))
    else:
        item.kind = content_pb.CONTENT_KIND_DOCUMENT
        item.document.CopyFrom(content_pb.DocumentDetails(mime_type="application/pdf",
                                                          size_bytes=rng.randint(10_000, 5_000_000),
                                                          page_count=rng.randint(1, 80),
                                                          url=f"https://cdn.example.com/d/{rng.getrandbits(48):x}.pdf"))
    return Planned("CreateContent", "content", content_pb.CreateContentRequest(
        content_item=item, request_id=ctx.new_request_id()), region=course.region)


def update_preferences(ctx: Context) -> Planned:
    student = ctx.pool.pick("students", ctx.data.rng)
    if student is None or not ctx.content_enabled:
        return create_user(ctx)
    rng = ctx.data.rng
    preferences = content_pb.UserPreferences(user_id=student.id, language=rng.choice(("en", "fr", "pt", "hi")),
                                             playback_speed=rng.choice((1.0, 1.25, 1.5)),
                                             theme=rng.choice((content_pb.THEME_LIGHT, content_pb.THEME_DARK)))
    request = content_pb.UpdatePreferencesRequest(preferences=preferences)
    request.update_mask.paths.extend(["language", "playback_speed", "theme"])
    return Planned("UpdatePreferences", "content", request, region=student.region)


def get_user(ctx: Context) -> Planned:
    student = ctx.pool.pick("students", ctx.data.rng)
    if student is None:
        return create_user(ctx)
    return Planned("GetUser", "users", users_pb.GetUserRequest(id=student.id), region=student.region)


def get_course(ctx: Context) -> Planned:
    course = ctx.pool.pick("courses", ctx.data.rng)
    if course is None:
        return create_course(ctx)
    return Planned("GetCourse", "courses", courses_pb.GetCourseRequest(id=course.id), region=course.region)


def get_enrollment(ctx: Context) -> Planned:
    enrollment = ctx.pool.pick("enrollments", ctx.data.rng)
    if enrollment is None:
        return enroll(ctx)
    return Planned("GetEnrollment", "enrollments", enrollments_pb.GetEnrollmentRequest(id=enrollment.id))


def list_enrollments(ctx: Context) -> Planned:
    enrollment = ctx.pool.pick("enrollments", ctx.data.rng)
    if enrollment is None:
        return enroll(ctx)
    return Planned("ListEnrollments", "enrollments", enrollments_pb.ListEnrollmentsRequest(
        student_id=enrollment.student_id, page_size=20))


# The mix: (weight, operation). Follow-up calls (PublishCourse after CreateCourse) come on top. The reads
# (Get*, List*) make about a fifth of a default run's calls.
MIX: list[tuple[int, Callable[[Context], Planned]]] = [
    (18, create_user),
    (4, create_instructor),
    (6, create_course),
    (16, enroll),
    (28, record_progress),
    (10, pay),
    (4, review),
    (8, create_content),
    (6, update_preferences),
    (10, get_user),
    (8, get_course),
    (7, get_enrollment),
    (5, list_enrollments),
]
