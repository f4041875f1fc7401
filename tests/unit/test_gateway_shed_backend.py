"""The gateway never retries a backend's RESOURCE_EXHAUSTED, not even for a read or a create with a request_id:
it passes it on once, so the caller decides when to come back (a blind retry adds load where there is too
much). That its RetryInfo arrives intact is asserted through the real gateway in tests/e2e/test_overload.py."""
from __future__ import annotations

import grpc

from elearning.users.v1 import users_service_pb2 as pb
from tests.unit.test_gateway_proxy import run, setup  # noqa: F401  (setup: the module fixture `run` needs)

SHED = grpc.StatusCode.RESOURCE_EXHAUSTED


def test_a_shed_read_or_create_is_passed_on_once(setup):  # noqa: F811
    for method, request in (("GetUser", pb.GetUserRequest(id=5)),
                            ("CreateUser", pb.CreateUserRequest(request_id="shed-1"))):
        error, attempts = run(setup, method, request, [SHED, SHED])
        assert error.code() is SHED and attempts == 1, method
