"""Small helpers for tests that call the users service over gRPC."""
from __future__ import annotations

import uuid

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from elearning.users.v1 import users_service_pb2 as pb
from elearning.users.v1 import users_service_pb2_grpc as pb_grpc
from shared.proto_values import region_value


def unique_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def new_user(region: str = "EUROPE", email: str | None = None, full_name: str = "Test User") -> pb.User:
    return pb.User(email=email or unique_email(), full_name=full_name, region=region_value(region))


def stub(channel: grpc.Channel) -> pb_grpc.UserServiceStub:
    return pb_grpc.UserServiceStub(channel)


def field_violations(error: grpc.RpcError) -> dict[str, str]:
    """field → description from the google.rpc.BadRequest in a failed call's rich status."""
    status = rpc_status.from_call(error)
    found = {}
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            found.update({v.field: v.description for v in bad.field_violations})
    return found


def error_info(error: grpc.RpcError) -> error_details_pb2.ErrorInfo | None:
    status = rpc_status.from_call(error)
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    return None
