"""The user directory of the content service, asked of the users service over gRPC (UserService.GetUser)."""
from __future__ import annotations

from elearning.users.v1 import users_service_pb2 as users_pb
from elearning.users.v1 import users_service_pb2_grpc as users_grpc
from shared.clients import STRONG_READ, ServiceClients
from shared.errors import NotFound


class GrpcUserDirectory:
    """Whether a user exists; any failure other than NOT_FOUND is UNAVAILABLE (the check cannot be made)."""

    def __init__(self, clients: ServiceClients):
        self.clients = clients
        self.stub = clients.stub("users", users_grpc.UserServiceStub)

    def exists(self, user_id: int) -> bool:
        try:
            self.clients.call("users", self.stub.GetUser, users_pb.GetUserRequest(id=user_id), what="user",
                              key=user_id, metadata=STRONG_READ)
        except NotFound:
            return False
        return True
