"""The courses service, asked through its generated stub whether the course of an enrollment is still open."""
from __future__ import annotations

from elearning.courses.v1 import courses_service_pb2 as pb
from elearning.courses.v1 import courses_service_pb2_grpc as pb_grpc
from shared.clients import STRONG_READ, ServiceClients
from shared.errors import FailedPrecondition, NotFound
from shared.proto_values import enum_name


class GrpcCourseGate:
    def __init__(self, clients: ServiceClients):
        self.clients = clients
        self.stub = clients.stub("courses", pb_grpc.CourseServiceStub)

    def check_open(self, course_id: int) -> None:
        """Refuses (FAILED_PRECONDITION) a charge for a course that is deleted or not open, read on its primary."""
        try:
            course = self.clients.call("courses", self.stub.GetCourse, pb.GetCourseRequest(id=course_id),
                                       what="course", key=course_id, metadata=STRONG_READ)
        except NotFound:
            raise FailedPrecondition(f"course {course_id} no longer exists", reason="COURSE_NOT_OPEN") from None
        if course.state != pb.COURSE_STATE_PUBLISHED:
            state = enum_name(pb.CourseState, course.state, "course.state")
            raise FailedPrecondition(f"course {course_id} is {state}, not open",
                                     reason="COURSE_NOT_OPEN")
