"""The course directory of the content service, asked of the courses service (`services.courses.client`)."""
from __future__ import annotations

from services.content.domain import Course
from services.courses.client import CourseReader
from shared.clients import ServiceClients
from shared.proto_values import region_name


class GrpcCourseDirectory:
    """A course that the courses service does not know is None; any other failure is UNAVAILABLE."""

    def __init__(self, clients: ServiceClients):
        self.courses = CourseReader(clients)

    def find(self, course_id: int) -> Course | None:
        course = self.courses.find(course_id)
        if course is None:
            return None
        return Course(id=course.id, region=region_name(course.region),
                      lesson_ids=frozenset(lesson.id for module in course.modules for lesson in module.lessons),
                      instructor_id=course.instructor_id)
