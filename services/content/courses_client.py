"""The course directory of the content service, asked of the courses service over gRPC (CourseService.GetCourse)."""
from __future__ import annotations

from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.courses.v1 import courses_service_pb2_grpc as courses_grpc
from services.content.domain import Course
from shared.clients import STRONG_READ, ServiceClients
from shared.errors import NotFound
from shared.proto_values import region_name


class GrpcCourseDirectory:
    """A course that the courses service does not know is None; any other failure is UNAVAILABLE."""

    def __init__(self, clients: ServiceClients):
        self.clients = clients
        self.stub = clients.stub("courses", courses_grpc.CourseServiceStub)

    def find(self, course_id: int) -> Course | None:
        try:
            course = self.clients.call("courses", self.stub.GetCourse, courses_pb.GetCourseRequest(id=course_id),
                                       what="course", key=course_id, metadata=STRONG_READ)
        except NotFound:
            return None
        return Course(id=course.id, region=region_name(course.region),
                      lesson_ids=frozenset(lesson.id for module in course.modules for lesson in module.lessons),
                      instructor_id=course.instructor_id)
