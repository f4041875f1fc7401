"""Fill a deployment with sample data through the gateway's public gRPC API, never behind the services.

Phases run in dependency order (users, categories, courses, payment methods, enrollments with their payments,
lesson progress, content, preferences); inside a phase the calls run on a small thread pool. Users and lesson
progress go through the batch methods (BatchCreateUsers, BatchRecordLessonProgress), up to `batch_size` items a
call. Every create carries a request ID derived from the seed (launcher.seed_plan), a batch one derived from
its items, so running again with the same seed replays.
"""
from __future__ import annotations

import hashlib
import threading
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
BATCH_TIMEOUT_S = 120.0  # a batch of 1,000 on a busy machine
BATCH_SIZE = 200  # a shard's part must finish within the statement timeout (5 s) on a busy machine
PREFERENCE_PATHS = ["language", "playback_speed", "captions_enabled", "caption_language", "notifications", "theme"]


@dataclass
class SeedResult:
    seed: int
    seconds: float
    per_shard: dict[str, dict[str, int]]
    notes: list[str] = field(default_factory=list)
    imported: dict[str, tuple[int, float]] = field(default_factory=dict)  # batch phase → (rows, seconds)


def call(what: str, method, request, timeout: float = CALL_TIMEOUT_S, **kwargs):
    """One RPC; a failure becomes a SeedError naming the item and the status."""
    try:
        return method(request, timeout=timeout, **kwargs)
    except grpc.RpcError as exc:
        raise SeedError(f"{what}: {exc.code().name}: {exc.details()}") from exc


class Seeder:
    def __init__(self, channel: grpc.Channel, shard_map: ShardMap, counts: Counts, seed: int, *,
                 with_content: bool = True, workers: int = 8, progress: Progress | None = None,
                 batch_size: int = BATCH_SIZE):
        counts.check()
        self.shards, self.counts, self.seed = shard_map, counts, seed
        self.with_content, self.workers, self.batch_size = with_content, workers, batch_size
        self.progress = progress or Progress(enabled=False)
        self.data = SampleData(seed)
        self.tally = Tally(shard_map.names)
        self.notes: list[str] = []
        self.imported: dict[str, tuple[int, float]] = {}
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
        return SeedResult(self.seed, time.monotonic() - began, self.tally.per_shard(), self.notes, self.imported)

    # ---- phases ------------------------------------------------------------------------------------------
    def _chunks(self, items: list) -> list[list]:
        return [items[i:i + self.batch_size] for i in range(0, len(items), self.batch_size)]

    def _batch_rid(self, kind: str, names: list[str]) -> str:
        """A batch's request ID: from the seed and its items, so another split or other counts never reuse it."""
        return self.rid(f"{kind}-{hashlib.sha256(','.join(names).encode()).hexdigest()[:24]}")

    def _users(self) -> dict[UserKey, users_pb.User]:
        keys = plan.users(self.counts)
        requests = [users_pb.CreateUserRequest(
            user=self.data.user(key),
            password=self.data.password(key) if key.role == "student" and key.index < self.counts.password_users
            else "") for key in keys]

        def create(batch: list[int]) -> list[users_pb.User]:
            response = call(f"users {batch[0]}-{batch[-1]}", self.users.BatchCreateUsers,
                            users_pb.BatchCreateUsersRequest(
                                requests=[requests[i] for i in batch],
                                request_id=self._batch_rid("users", [keys[i].name for i in batch])),
                            timeout=BATCH_TIMEOUT_S)
            made = []
            for i, result in zip(batch, response.results, strict=False):
                user = result.user if result.status.code == 0 else self._made_earlier(keys[i], requests[i])
                self.tally.add(self.shard(user.id), "users")
                made.append(user)
            return made
        began = time.monotonic()
        batches = self.phases.run("users", self._chunks(list(range(len(keys)))), create)
        self.imported["users"] = (len(keys), time.monotonic() - began)
        return dict(zip(keys, (user for batch in batches for user in batch), strict=False))

    def _made_earlier(self, key: UserKey, request: users_pb.CreateUserRequest) -> users_pb.User:
        """A user whose email a batch found taken: made by an earlier run of this seed (one call at a time, whose
        request ID replays it, or in batches of another size), else someone else's email: a SeedError."""
        try:
            return self.users.CreateUser(users_pb.CreateUserRequest(
                user=request.user, password=request.password, request_id=self.rid(key.name)), timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise SeedError(f"user {request.user.email}: {exc.code().name}: {exc.details()}") from exc
        found = call(f"user {request.user.email}", self.users.GetUserByEmail,
                     users_pb.GetUserByEmailRequest(email=request.user.email))
        if (found.full_name, found.region, found.role) != (request.user.full_name, request.user.region,
                                                           request.user.role):
            raise SeedError(f"user {request.user.email}: ALREADY_EXISTS, made by someone else")
        return found

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
            items = []
            for n, lesson in enumerate(lessons[:completed + (1 if started else 0)]):
                done = n < completed
                watched = lesson.duration_seconds if done else lesson.duration_seconds // 3
                items.append(enrollments_pb.RecordLessonProgressRequest(
                    enrollment_id=enrollment.id, lesson_id=lesson.id, watched_seconds=watched,
                    position_seconds=watched, completed=done))
            with lock:
                progress[i] = items
        progress: dict[int, list] = {}
        lock = threading.Lock()
        self.phases.run("enrollments", list(range(len(keys))), enroll)
        self._progress([item for i in sorted(progress) for item in progress[i]])

    def _progress(self, items: list) -> None:
        """Lesson progress in batches over every shard (an upsert: a repeated run records the same again)."""
        def record(batch: list) -> None:
            response = call(f"lesson progress of enrollment {batch[0].enrollment_id}",
                            self.enrollments.BatchRecordLessonProgress,
                            enrollments_pb.BatchRecordLessonProgressRequest(requests=batch), timeout=BATCH_TIMEOUT_S)
            for sent, result in zip(batch, response.results, strict=False):
                if result.status.code != 0:
                    raise SeedError(f"progress of enrollment {sent.enrollment_id}: {result.status.message}")
                self.tally.add(self.shard(sent.enrollment_id), "lesson progress")
        began = time.monotonic()
        self.phases.run("lesson progress", self._chunks(items), record)
        self.imported["lesson progress"] = (len(items), time.monotonic() - began)

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
