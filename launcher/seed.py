"""Fill a deployment with sample data through the gateway's public gRPC API, never behind the services.

Phases run in dependency order (users, categories, courses, payment methods, enrollments with their payments
and progress, content, preferences); inside a phase the calls run on a small thread pool. Every create carries
a request ID derived from the seed (launcher.seed_plan), so running again with the same seed replays.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
from google.protobuf import field_mask_pb2

from elearning.content.v1 import content_service_pb2 as content_pb
from elearning.content.v1 import content_service_pb2_grpc as content_grpc
from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.courses.v1 import courses_service_pb2_grpc as courses_grpc
from elearning.enrollments.v1 import enrollments_service_pb2 as enrollments_pb
from elearning.enrollments.v1 import enrollments_service_pb2_grpc as enrollments_grpc
from elearning.payments.v1 import payments_service_pb2 as payments_pb
from elearning.payments.v1 import payments_service_pb2_grpc as payments_grpc
from elearning.users.v1 import users_service_pb2 as users_pb
from elearning.users.v1 import users_service_pb2_grpc as users_grpc
from launcher import seed_plan as plan
from launcher.phases import Phases
from launcher.progress import Progress
from launcher.seed_data import SampleData
from launcher.seed_plan import Counts, CourseKey, EnrollmentKey, SeedError, UserKey
from launcher.seed_report import Tally
from shared.proto_values import enum_name
from shared.sharding import ShardMap

CALL_TIMEOUT_S = 20.0  # generous: a few users are created with a password, hashed with scrypt on purpose
PREFERENCE_PATHS = ["language", "playback_speed", "captions_enabled", "caption_language", "notifications", "theme"]


@dataclass
class SeedResult:
    seed: int
    seconds: float
    per_shard: dict[str, dict[str, int]]
    notes: list[str] = field(default_factory=list)


def call(what: str, method, request, **kwargs):
    """One RPC; a failure becomes a SeedError naming the item and the status."""
    try:
        return method(request, timeout=CALL_TIMEOUT_S, **kwargs)
    except grpc.RpcError as exc:
        raise SeedError(f"{what}: {exc.code().name}: {exc.details()}") from exc


class Seeder:
    def __init__(self, channel: grpc.Channel, shard_map: ShardMap, counts: Counts, seed: int, *,
                 with_content: bool = True, workers: int = 8, progress: Progress | None = None):
        counts.check()
        self.shards, self.counts, self.seed = shard_map, counts, seed
        self.with_content, self.workers = with_content, workers
        self.progress = progress or Progress(enabled=False)
        self.data = SampleData(seed)
        self.tally = Tally(shard_map.names)
        self.notes: list[str] = []
        self.users = users_grpc.UserServiceStub(channel)
        self.courses = courses_grpc.CourseServiceStub(channel)
        self.enrollments = enrollments_grpc.EnrollmentServiceStub(channel)
        self.payments = payments_grpc.PaymentServiceStub(channel)
        self.content = content_grpc.ContentServiceStub(channel)

    def rid(self, name: str) -> str:
        return plan.request_id(self.seed, name)

    def shard(self, id_: int) -> str:
        return self.shards.for_id(id_).name

    def run(self) -> SeedResult:
        began = time.monotonic()
        with Phases(self.workers, self.progress) as self.phases:
            users = self._users()
            categories = self._categories()
            course_keys = plan.courses(self.seed, self.counts)
            courses = self._courses(course_keys, users, categories)
            enrollment_keys = plan.enrollments(self.seed, self.counts, course_keys)
            paid = plan.paid(self.seed, self.counts)
            methods = self._payment_methods({enrollment_keys[i].student for i in paid}, users)
            self._enroll(enrollment_keys, paid, users, courses, methods)
            if self.with_content:
                self._content(course_keys, courses)
                self._preferences(users)
            else:
                self.notes.append("content items and preferences skipped: the gateway does not report "
                                  "elearning.content.v1.ContentService SERVING")
        return SeedResult(self.seed, time.monotonic() - began, self.tally.per_shard(), self.notes)

    # ---- phases ------------------------------------------------------------------------------------------
    def _users(self) -> dict[UserKey, users_pb.User]:
        keys = plan.users(self.counts)
        requests = [users_pb.CreateUserRequest(
            user=self.data.user(key), request_id=self.rid(key.name),
            password=self.data.password(key) if key.role == "student" and key.index < self.counts.password_users
            else "") for key in keys]

        def create(request):
            user = call(f"user {request.user.email}", self.users.CreateUser, request)
            self.tally.add(self.shard(user.id), "users")
            return user
        return dict(zip(keys, self.phases.run("users", requests, create), strict=True))

    def _categories(self) -> list[int]:
        ids: list[int] = [0] * self.counts.categories
        tops = [j for j in range(self.counts.categories) if plan.category_parent(j) is None]
        children = [j for j in range(self.counts.categories) if plan.category_parent(j) is not None]
        reused: list[str] = []
        for label, batch in (("categories", tops), ("subcategories", children)):
            made = self.phases.run(label, batch, self._category_with(ids, reused))
            for j, category_id in zip(batch, made, strict=True):
                ids[j] = category_id
        if reused:
            self.notes.append(f"{len(reused)} categories already existed (another seed made them) and are reused, "
                              f"not counted: {', '.join(sorted(reused))}")
        return ids

    def _category_with(self, ids: list[int], reused: list[str]) -> Callable[[int], int]:
        def create(j: int) -> int:
            parent = plan.category_parent(j)
            category = self.data.category(j, 0 if parent is None else ids[parent])
            request = courses_pb.CreateCategoryRequest(category=category, request_id=self.rid(f"category-{j}"))
            try:
                made = self.courses.CreateCategory(request, timeout=CALL_TIMEOUT_S)
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.ALREADY_EXISTS:
                    raise SeedError(f"category {category.slug}: {exc.code().name}: {exc.details()}") from exc
                reused.append(category.slug)
                return self._category_by_slug(category.slug)
            self.tally.add_everywhere("categories")
            return made.id
        return create

    def _category_by_slug(self, slug: str) -> int:
        token = ""
        while True:
            page = call("list categories", self.courses.ListCategories,
                        courses_pb.ListCategoriesRequest(page_size=1000, page_token=token))
            for category in page.categories:
                if category.slug == slug:
                    return category.id
            token = page.next_page_token
            if not token:
                raise SeedError(f"category {slug}: ALREADY_EXISTS, yet not listed by ListCategories")

    def _courses(self, keys: list[CourseKey], users: dict, categories: list[int]) -> dict[CourseKey, courses_pb.Course]:
        requests = []
        for key in keys:
            teacher = UserKey("instructor", key.instructor)
            course = self.data.course(key, teacher, users[teacher].id, categories[key.category])
            requests.append(courses_pb.CreateCourseRequest(course=course, request_id=self.rid(key.name)))

        def create_and_publish(request):
            course = call(f"course {request.request_id}", self.courses.CreateCourse, request)
            call(f"publish course {course.id}", self.courses.PublishCourse,
                 courses_pb.PublishCourseRequest(id=course.id))
            shard = self.shard(course.id)
            self.tally.add(shard, "courses")
            self.tally.add(shard, "modules", len(course.modules))
            self.tally.add(shard, "lessons", sum(len(m.lessons) for m in course.modules))
            return course
        return dict(zip(keys, self.phases.run("courses", requests, create_and_publish), strict=True))

    def _payment_methods(self, students: set[int], users: dict) -> dict[int, int]:
        order = sorted(students)

        def add(student: int) -> int:
            key = UserKey("student", student)
            method, token = self.data.payment_method(key, users[key].id, users[key].full_name)
            made = call(f"payment method of {key.name}", self.payments.AddPaymentMethod,
                        payments_pb.AddPaymentMethodRequest(payment_method=method, token=token,
                                                            request_id=self.rid(f"card-{key.name}")))
            self.tally.add(self.shard(made.id), "payment methods")
            return made.id
        return dict(zip(order, self.phases.run("payment methods", order, add), strict=True))

    def _enroll(self, keys: list[EnrollmentKey], paid: set[int], users: dict, courses: dict,
                methods: dict[int, int]) -> None:
        def enroll(i: int) -> None:
            key = keys[i]
            student = users[UserKey("student", key.student)]
            course = courses[key.course]
            enrollment = call(f"enrollment {key.name}", self.enrollments.Enroll, enrollments_pb.EnrollRequest(
                student_id=student.id, course_id=course.id, request_id=self.rid(f"enroll-{key.name}")))
            shard = self.shard(enrollment.id)
            self.tally.add(shard, "enrollments")
            if i in paid:
                self._pay(key, student.id, enrollment, methods[key.student])
            lessons = [lesson for module in course.modules for lesson in module.lessons]
            completed, started = plan.progress(self.seed, key, len(lessons))
            for n, lesson in enumerate(lessons[:completed + (1 if started else 0)]):
                done = n < completed
                watched = lesson.duration_seconds if done else lesson.duration_seconds // 3
                call(f"progress of {key.name}", self.enrollments.RecordLessonProgress,
                     enrollments_pb.RecordLessonProgressRequest(
                         enrollment_id=enrollment.id, lesson_id=lesson.id, watched_seconds=watched,
                         position_seconds=watched, completed=done))
                self.tally.add(shard, "lesson progress")
        self.phases.run("enrollments", list(range(len(keys))), enroll)

    def _pay(self, key: EnrollmentKey, user_id: int, enrollment, method_id: int) -> None:
        made = call(f"payment of {key.name}", self.payments.CreatePayment, payments_pb.CreatePaymentRequest(
            user_id=user_id, enrollment_id=enrollment.id, payment_method_id=method_id,
            amount=enrollment.course_price, description=f"Course: {enrollment.course_title}"[:500],
            request_id=self.rid(f"pay-{key.name}")))
        if made.transaction.status != payments_pb.TRANSACTION_STATUS_SUCCEEDED:
            status = enum_name(payments_pb.TransactionStatus, made.transaction.status, "status")
            raise SeedError(f"payment of {key.name} was {status}"
                            f" ({made.transaction.failure_reason})")
        self.tally.add(self.shard(made.transaction.id), "payments")
        self.tally.add(self.shard(made.invoice.id), "invoices")

    def _content(self, keys: list[CourseKey], courses: dict) -> None:
        requests = []
        for key in keys:
            course = courses[key]
            for m, module in enumerate(course.modules):
                for n, lesson in enumerate(module.lessons):
                    for k in range(self.counts.content_per_lesson):
                        where = f"m{m}-l{n}"
                        requests.append(content_pb.CreateContentRequest(
                            content_item=self.data.content(key, course.id, lesson, where, k),
                            request_id=self.rid(f"content-{key.name}-{where}-{k}")))

        def create(request):
            item = call(f"content {request.request_id}", self.content.CreateContent, request)
            self.tally.add(self.shards.for_document_id(item.id)[0].name, "content items")
        self.phases.run("content items", requests, create)

    def _preferences(self, users: dict[UserKey, users_pb.User]) -> None:
        chosen = list(users.items())[:self.counts.preference_users]
        requests = [content_pb.UpdatePreferencesRequest(
            preferences=self.data.preferences(key, user.id),
            update_mask=field_mask_pb2.FieldMask(paths=PREFERENCE_PATHS)) for key, user in chosen]

        def update(request):
            prefs = call(f"preferences of user {request.preferences.user_id}", self.content.UpdatePreferences,
                         request)
            self.tally.add(self.shard(prefs.user_id), "preferences")
        self.phases.run("preferences", requests, update)
