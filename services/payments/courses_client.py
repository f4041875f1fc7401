"""The courses service, asked whether the course of an enrollment is still open (`services.courses.client`)."""
from __future__ import annotations

from elearning.courses.v1 import courses_service_pb2 as pb
from services.courses.client import CourseReader
from shared.clients import ServiceClients
from shared.errors import FailedPrecondition
from shared.proto_values import enum_name


class GrpcCourseGate:
    def __init__(self, clients: ServiceClients):
        self.courses = CourseReader(clients)

    def check_open(self, course_id: int) -> None:
        """Refuses (FAILED_PRECONDITION) a charge for a course that is deleted or not open, read on its primary."""
        course = self.courses.find(course_id)
        if course is None:
            raise FailedPrecondition(f"course {course_id} no longer exists", reason="COURSE_NOT_OPEN")
        if course.state != pb.COURSE_STATE_PUBLISHED:
            state = enum_name(pb.CourseState, course.state, "course.state")
            raise FailedPrecondition(f"course {course_id} is {state}, not open",
                                     reason="COURSE_NOT_OPEN")
