"""The course a student enrolls in, as the courses service describes it (`services.courses.client`)."""
from __future__ import annotations

from decimal import Decimal

from elearning.courses.v1 import courses_service_pb2 as pb
from services.courses.client import CourseReader
from services.enrollments.domain import CourseSnapshot
from shared.clients import ServiceClients
from shared.errors import NotFound
from shared.proto_values import enum_name


class GrpcCourseCatalog:
    def __init__(self, clients: ServiceClients):
        self.courses = CourseReader(clients)

    def snapshot(self, course_id: int) -> CourseSnapshot:
        """The course as it is now (read on its primary: a course just published must be seen)."""
        course = self.courses.find(course_id)
        if course is None:
            raise NotFound("course", course_id)
        return CourseSnapshot(course_id=course.id, title=course.title, price=Decimal(course.price.amount or "0"),
                              currency=course.price.currency_code,
                              state=enum_name(pb.CourseState, course.state, "course.state"),
                              lesson_ids=tuple(lesson.id for m in course.modules for lesson in m.lessons))

    def is_open(self, course_id: int) -> bool:
        """Whether the course is open to enrollment now, read on its primary (a deleted course is not)."""
        course = self.courses.find(course_id)
        return course is not None and enum_name(pb.CourseState, course.state, "course.state") == "PUBLISHED"
