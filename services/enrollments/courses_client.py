"""The courses service, asked through its generated stub for the course a student enrolls in."""
from __future__ import annotations

from decimal import Decimal

from elearning.courses.v1 import courses_service_pb2 as pb
from elearning.courses.v1 import courses_service_pb2_grpc as pb_grpc
from services.enrollments.domain import CourseSnapshot
from shared.clients import STRONG_READ, ServiceClients
from shared.errors import NotFound
from shared.proto_values import enum_name


class GrpcCourseCatalog:
    def __init__(self, clients: ServiceClients):
        self.clients = clients
        self.stub = clients.stub("courses", pb_grpc.CourseServiceStub)

    def snapshot(self, course_id: int) -> CourseSnapshot:
        """The course as it is now (read on its primary: a course just published must be seen)."""
        course = self.clients.call("courses", self.stub.GetCourse, pb.GetCourseRequest(id=course_id),
                                   what="course", key=course_id, metadata=STRONG_READ)
        return CourseSnapshot(course_id=course.id, title=course.title, price=Decimal(course.price.amount or "0"),
                              currency=course.price.currency_code,
                              state=enum_name(pb.CourseState, course.state, "course.state"),
                              lesson_ids=tuple(lesson.id for m in course.modules for lesson in m.lessons))

    def is_open(self, course_id: int) -> bool:
        """Whether the course is open to enrollment now, read on its primary (a deleted course is not)."""
        try:
            return self.snapshot(course_id).state == "PUBLISHED"
        except NotFound:
            return False
