"""The enrollments service, asked through its generated stub whether a student is enrolled in a course, and how
many enrollments a course has."""
from __future__ import annotations

from elearning.enrollments.v1 import enrollments_service_pb2 as pb
from elearning.enrollments.v1 import enrollments_service_pb2_grpc as pb_grpc
from shared.clients import STRONG_READ, ServiceClients

CANCELLED = pb.ENROLLMENT_STATE_CANCELLED


class GrpcEnrollmentChecker:
    def __init__(self, clients: ServiceClients):
        self.clients = clients
        self.stub = clients.stub("enrollments", pb_grpc.EnrollmentServiceStub)

    def is_enrolled(self, student_id: int, course_id: int) -> bool:
        token = ""
        while True:
            page = self.clients.call("enrollments", self.stub.ListEnrollments, pb.ListEnrollmentsRequest(
                student_id=student_id, page_size=1000, page_token=token), what="student", key=student_id,
                metadata=STRONG_READ)
            if any(e.course_id == course_id and e.state != CANCELLED for e in page.enrollments):
                return True
            token = page.next_page_token
            if not token:
                return False

    def count_enrollments(self, course_id: int) -> int:
        """The course's enrollments in any state on every shard, as their primaries hold them now."""
        reply = self.clients.call("enrollments", self.stub.CountCourseEnrollments,
                                  pb.CountCourseEnrollmentsRequest(course_id=course_id), what="course", key=course_id)
        return reply.enrollment_count
