"""The processes a local cluster runs, besides PostgreSQL: which module serves which gRPC service, and as how
many instances."""
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


@dataclass(frozen=True)
class Instance:
    """One process of a component: the first is named like its component ("users"), the next "users-2", ..."""

    component: Component
    index: int = 0

    @property
    def name(self) -> str:
        return self.component.name if self.index == 0 else f"{self.component.name}-{self.index + 1}"


def instances_of(component: Component, count: int) -> list[Instance]:
    """The gateway runs once locally (it is the one published address); each service `count` times."""
    return [Instance(component, i) for i in range(1 if component is GATEWAY else count)]
