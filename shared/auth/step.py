"""The pipeline step `authenticate`: verify the caller's token, hold the call to the method's rule, and set
the caller the service reads (`shared.auth.caller.current()`).

Only the `authorization: Bearer <token>` metadata names the caller; no other header is read, so a caller
cannot claim an identity by setting one. Health and reflection stay open (probes carry no token).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message

from shared.auth import caller as callers
from shared.auth import policy
from shared.auth.tokens import InvalidToken, Verifier
from shared.errors import DomainError, NotFound, PermissionDenied, Unauthenticated
from shared.grpc_errors import to_status
from shared.interceptors import Behavior, UnaryWrapInterceptor

log = logging.getLogger(__name__)
HEADER = "authorization"
# ErrorInfo reasons of this step's refusals (a service's own refusals have others).
TOKEN_MISSING = "TOKEN_MISSING"
TOKEN_INVALID = "TOKEN_INVALID"
ROLE_NOT_ALLOWED = "ROLE_NOT_ALLOWED"
NOT_OWNER = "NOT_OWNER"
STEP_REASONS = (TOKEN_MISSING, TOKEN_INVALID, ROLE_NOT_ALLOWED, NOT_OWNER)


def bearer(metadata: Any) -> str | None:
    """The token of the call's `authorization: Bearer ...` metadata, or None when it has none."""
    for key, value in metadata or ():
        if key == HEADER:
            scheme, _, token = str(value).partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated("the authorization metadata must be 'Bearer <token>'", reason=TOKEN_INVALID)
            return token.strip()
    return None


def field_value(message: Message, path: str) -> object:
    value: object = message
    for name in path.split("."):
        value = getattr(value, name)
    return value


def request_class(method: str) -> Callable[[], Message] | None:
    try:
        found = descriptor_pool.Default().FindMethodByName(method.lstrip("/").replace("/", "."))
    except KeyError:
        return None
    message_class: Callable[[], Message] = message_factory.GetMessageClass(found.input_type)
    return message_class


def admit(verifier: Verifier, method: str, metadata: Any) -> callers.Caller:
    """The caller of `method` if its rule lets it call; raises Unauthenticated or PermissionDenied."""
    token = bearer(metadata)
    try:
        caller = verifier.verify(token) if token is not None else callers.ANONYMOUS
    except InvalidToken as exc:
        raise Unauthenticated(str(exc), reason=TOKEN_INVALID) from None
    rule = policy.rule_for(method)
    if rule is None:
        raise PermissionDenied("this method has no access rule; nobody may call it", reason=ROLE_NOT_ALLOWED)
    if caller.identity not in rule.allow:
        if caller is callers.ANONYMOUS:
            raise Unauthenticated("this method needs a signed-in caller: send 'authorization: Bearer <token>'",
                                  reason=TOKEN_MISSING)
        raise PermissionDenied(f"a caller of role {caller.identity} may not call this method",
                               reason=ROLE_NOT_ALLOWED)
    return caller


def check_owner(rule: policy.Rule, caller: callers.Caller, request: Message) -> None:
    if rule.owner and caller.bound_to_own_data and field_value(request, rule.owner) != caller.user_id:
        raise PermissionDenied(f"{rule.owner} must be your own user ID", reason=NOT_OWNER)


class AuthenticateInterceptor(UnaryWrapInterceptor):
    """Every elearning call: token, rule, ownership of the request's own fields, then the handler as the
    caller; reads named by their own ID are NOT_FOUND when the reply belongs to someone else."""

    def __init__(self, verifier: Verifier, domain: str):
        super().__init__()
        self.verifier = verifier
        self.domain = domain

    def wrap(self, behavior: Behavior, method: str) -> Behavior:
        if not policy.is_guarded(method):
            return behavior
        rule = policy.rule_for(method)
        parse = request_class(method) if rule is not None and (rule.owner or rule.reply_owner) else None

        def guarded(request: Any, context: grpc.ServicerContext) -> Any:
            try:
                caller = admit(self.verifier, method, context.invocation_metadata())
                if rule is not None and rule.owner and parse is not None and caller.bound_to_own_data:
                    try:
                        check_owner(rule, caller, parse().FromString(request))
                    except DecodeError:
                        pass  # the handler's own parse answers INVALID_ARGUMENT naming the request
            except DomainError as exc:
                context.abort_with_status(to_status(exc, self.domain))
            with callers.acting_as(caller):
                reply = behavior(request, context)
            if (rule is not None and rule.reply_owner and caller.bound_to_own_data and isinstance(reply, Message)
                    and field_value(reply, rule.reply_owner) != caller.user_id and parse is not None):
                    resource, key = rule.hidden_as
                    shown = field_value(parse().FromString(request), key)
                    hidden = NotFound(resource, shown.strip().lower() if isinstance(shown, str) else shown)
                    context.abort_with_status(to_status(hidden, self.domain))
            return reply

        return guarded
