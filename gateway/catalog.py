"""The public API the gateway exposes: every service's proto, by full name, and its backend key."""
from __future__ import annotations

from google.protobuf import descriptor, descriptor_pool

from elearning.content.v1 import content_service_pb2
from elearning.courses.v1 import courses_service_pb2
from elearning.enrollments.v1 import enrollments_service_pb2
from elearning.payments.v1 import payments_service_pb2
from elearning.users.v1 import users_service_pb2

# Importing the modules above registers their descriptors, which server reflection serves.
PUBLIC_SERVICES = {
    users_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name: "users",
    courses_service_pb2.DESCRIPTOR.services_by_name["CourseService"].full_name: "courses",
    enrollments_service_pb2.DESCRIPTOR.services_by_name["EnrollmentService"].full_name: "enrollments",
    payments_service_pb2.DESCRIPTOR.services_by_name["PaymentService"].full_name: "payments",
    content_service_pb2.DESCRIPTOR.services_by_name["ContentService"].full_name: "content",
}


def split_method(method: str) -> tuple[str, str]:
    """("/pkg.Service/Method") → ("pkg.Service", "Method")."""
    service, _, name = method.lstrip("/").partition("/")
    return service, name


def public_methods() -> dict[str, tuple[str, descriptor.Descriptor]]:
    """"/pkg.Service/Method" → (backend key, request message descriptor), for every public method."""
    pool = descriptor_pool.Default()
    methods = {}
    for full_name, key in PUBLIC_SERVICES.items():
        for method in pool.FindServiceByName(full_name).methods:
            methods[f"/{full_name}/{method.name}"] = (key, method.input_type)
    return methods
