"""The courses service's client for the services that ask it about a course (enrollments, payments, content)."""
from __future__ import annotations

from elearning.courses.v1 import courses_service_pb2 as pb
from elearning.courses.v1 import courses_service_pb2_grpc as pb_grpc
from shared.clients import STRONG_READ, ServiceClients
from shared.errors import NotFound


class CourseReader:
    """GetCourse through the generated stub, read on the course's primary: a course just published, archived
    or deleted must be seen as it is now by a decision that depends on it."""

    def __init__(self, clients: ServiceClients):
        self.clients = clients
        self.stub = clients.stub("courses", pb_grpc.CourseServiceStub)

    def find(self, course_id: int) -> pb.Course | None:
        """The course, or None when the courses service does not know it; any other failure is raised (an
        UNAVAILABLE naming the courses service when it cannot be asked)."""
        try:
            return self.clients.call("courses", self.stub.GetCourse, pb.GetCourseRequest(id=course_id),
                                     what="course", key=course_id, metadata=STRONG_READ)
        except NotFound:
            return None
