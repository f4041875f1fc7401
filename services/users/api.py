"""The gRPC edge of the users service: proto ↔ domain, nothing else."""
from __future__ import annotations

from collections.abc import Callable

from google.protobuf import empty_pb2

from elearning.common.v1 import common_pb2
from elearning.users.v1 import users_service_pb2 as pb
from elearning.users.v1 import users_service_pb2_grpc as pb_grpc
from services.users.domain import PROFILE_FIELDS, CreatedOutcome, NewUserRequest, User
from services.users.service import UPDATABLE, UserService
from services.users.sessions import Session, Sessions
from shared.errors import InvalidArgument
from shared.grpc_errors import item_status
from shared.proto_values import enum_name, enum_value, region_name, region_value, timestamp


def to_proto(user: User) -> pb.User:
    return pb.User(
        id=user.id, email=user.email, full_name=user.full_name, region=region_value(user.region),
        role=enum_value(pb.UserRole, user.role),
        profile=pb.UserProfile(**{f: getattr(user.profile, f) for f in PROFILE_FIELDS}),
        has_password=user.has_password, create_time=timestamp(user.created_at),
        update_time=timestamp(user.updated_at))


def _profile(message: pb.UserProfile) -> dict[str, str]:
    return {f: getattr(message, f) for f in PROFILE_FIELDS}


def _populated(user: pb.User, password: str) -> list[str]:
    paths = [f.name for f, _ in user.ListFields() if f.name in UPDATABLE]
    return paths + (["password"] if password else [])


def _name_or_number(enum_type, value: int) -> str:
    """An enum value's domain text, or its number as text (the service names the field of an unknown one)."""
    try:
        return enum_name(enum_type, value, "")
    except InvalidArgument:
        return str(value)


def _batch_item(request: pb.CreateUserRequest) -> NewUserRequest:
    user = request.user
    return NewUserRequest(user.full_name, user.email, _name_or_number(common_pb2.Region, user.region),
                          _name_or_number(pb.UserRole, user.role), _profile(user.profile), request.password,
                          request.request_id)


def _batch_result(outcome: CreatedOutcome) -> pb.BatchCreateUsersResult:
    if outcome.error is not None:
        return pb.BatchCreateUsersResult(status=item_status(outcome.error))
    return pb.BatchCreateUsersResult(status=common_pb2.ItemStatus(), user=to_proto(outcome.user))


def session_reply(session: Session) -> pb.LoginResponse:
    return pb.LoginResponse(access_token=session.access_token,
                            access_token_expire_time=timestamp(session.access_expires_at),
                            refresh_token=session.refresh_token,
                            refresh_token_expire_time=timestamp(session.refresh_expires_at), user_id=session.user_id)


def peer_host(context) -> str:
    """The caller's address without its port (a new connection must not reset the caller's count)."""
    peer = context.peer() or ""
    return peer.rsplit(":", 1)[0] if peer.count(":") > 1 else peer


class UserApi(pb_grpc.UserServiceServicer):
    def __init__(self, service: UserService, sessions: Sessions, jwks: Callable[[], str]):
        self.service = service
        self.sessions = sessions
        self.jwks = jwks

    def Login(self, request: pb.LoginRequest, context) -> pb.LoginResponse:
        return session_reply(self.sessions.login(request.email, request.password, peer_host(context)))

    def RefreshToken(self, request: pb.RefreshTokenRequest, context) -> pb.LoginResponse:
        return session_reply(self.sessions.refresh(request.refresh_token))

    def Logout(self, request: pb.LogoutRequest, context) -> empty_pb2.Empty:
        self.sessions.logout(request.refresh_token)
        return empty_pb2.Empty()

    def GetJwks(self, request: pb.GetJwksRequest, context) -> pb.GetJwksResponse:
        return pb.GetJwksResponse(jwks_json=self.jwks())

    def ExchangeToken(self, request: pb.ExchangeTokenRequest, context) -> pb.LoginResponse:
        return session_reply(self.sessions.exchange(request.email))

    def CreateUser(self, request: pb.CreateUserRequest, context) -> pb.User:
        user = request.user
        return to_proto(self.service.create_user(
            full_name=user.full_name, email=user.email, region=region_name(user.region, "user.region"),
            role=enum_name(pb.UserRole, user.role, "user.role"), profile=_profile(user.profile),
            password=request.password, request_id=request.request_id))

    def BatchCreateUsers(self, request: pb.BatchCreateUsersRequest, context) -> pb.BatchCreateUsersResponse:
        outcomes = self.service.batch_create_users([_batch_item(r) for r in request.requests], request.request_id)
        return pb.BatchCreateUsersResponse(results=[_batch_result(o) for o in outcomes])

    def GetUser(self, request: pb.GetUserRequest, context) -> pb.User:
        return to_proto(self.service.get_user(request.id))

    def GetUserByEmail(self, request: pb.GetUserByEmailRequest, context) -> pb.User:
        return to_proto(self.service.get_user_by_email(request.email))

    def ListUsers(self, request: pb.ListUsersRequest, context) -> pb.ListUsersResponse:
        users, token = self.service.list_users(region_name(request.region), request.page_size, request.page_token)
        return pb.ListUsersResponse(users=[to_proto(u) for u in users], next_page_token=token)

    def UpdateUser(self, request: pb.UpdateUserRequest, context) -> pb.User:
        user = request.user
        paths = list(request.update_mask.paths) or _populated(user, request.password)
        return to_proto(self.service.update_user(
            user.id, paths, full_name=user.full_name, email=user.email,
            role=enum_name(pb.UserRole, user.role, "user.role"), profile=_profile(user.profile),
            password=request.password))

    def DeleteUser(self, request: pb.DeleteUserRequest, context) -> empty_pb2.Empty:
        self.service.delete_user(request.id)
        return empty_pb2.Empty()
