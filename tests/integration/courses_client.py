"""Helpers for tests that create categories, instructors and courses through the gateway."""
from __future__ import annotations

import uuid

from elearning.common.v1 import common_pb2
from elearning.courses.v1 import courses_service_pb2 as pb
from elearning.courses.v1 import courses_service_pb2_grpc as pb_grpc
from elearning.users.v1 import users_service_pb2 as users_pb
from elearning.users.v1 import users_service_pb2_grpc as users_grpc
from shared.proto_values import region_value


def stub(channel) -> pb_grpc.CourseServiceStub:
    return pb_grpc.CourseServiceStub(channel)


def category(channel, name: str | None = None) -> pb.Category:
    tag = uuid.uuid4().hex[:10]
    return stub(channel).CreateCategory(pb.CreateCategoryRequest(
        category=pb.Category(name=name or f"Category {tag}", slug=f"cat-{tag}")), timeout=10)


def instructor(channel, region: str = "ASIA", role: int = users_pb.USER_ROLE_INSTRUCTOR) -> users_pb.User:
    return users_grpc.UserServiceStub(channel).CreateUser(users_pb.CreateUserRequest(user=users_pb.User(
        email=f"teacher-{uuid.uuid4().hex[:12]}@example.com", full_name="A Teacher",
        region=region_value(region), role=role)), timeout=10)


def outline(modules: int = 2, lessons: int = 3) -> list[pb.Module]:
    return [pb.Module(title=f"Module {m + 1}", lessons=[
        pb.Lesson(title=f"Lesson {m + 1}.{n + 1}", kind=pb.LESSON_KIND_VIDEO, duration_seconds=90 + n)
        for n in range(lessons)]) for m in range(modules)]


def course_message(instructor_id: int, category_id: int, **overrides) -> pb.Course:
    fields = dict(instructor_id=instructor_id, category_id=category_id, title="Distributed Systems",
                  language="en", level=pb.COURSE_LEVEL_INTERMEDIATE,
                  price=common_pb2.Money(currency_code="EUR", amount="19.99"), modules=outline())
    fields.update(overrides)
    return pb.Course(**fields)


def course(channel, instructor_id: int, category_id: int, **overrides) -> pb.Course:
    return stub(channel).CreateCourse(pb.CreateCourseRequest(
        course=course_message(instructor_id, category_id, **overrides)), timeout=10)
