"""The processes a local cluster runs, besides PostgreSQL: which module serves which gRPC service."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Component:
    name: str
    module: str
    health_names: tuple[str, ...]


# Services are added here as their servers are built (see the issues for courses, enrollments,
# payments and content); the gateway forwards to whatever is configured.
SERVICES = (
    Component("users", "services.users.main", ("elearning.users.v1.UserService",)),
    Component("courses", "services.courses.main", ("elearning.courses.v1.CourseService",)),
    Component("enrollments", "services.enrollments.main", ("elearning.enrollments.v1.EnrollmentService",)),
    Component("payments", "services.payments.main", ("elearning.payments.v1.PaymentService",)),
    Component("content", "services.content.main", ("elearning.content.v1.ContentService",)),
)
GATEWAY = Component("gateway", "gateway.main", ("",))
