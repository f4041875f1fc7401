"""Who is calling: set by the `authenticate` pipeline step from a verified token, read by the services."""
from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from shared.errors import NotFound, PermissionDenied

ROLES = ("STUDENT", "INSTRUCTOR", "ADMIN")


@dataclass(frozen=True)
class Caller:
    """`kind` is anonymous, user or service; a user has an ID and a role, a service a name."""

    kind: str
    user_id: int = 0
    role: str = ""
    region: str = ""
    service_name: str = ""

    @classmethod
    def user(cls, user_id: int, role: str, region: str = "") -> Caller:
        return cls("user", user_id=user_id, role=role, region=region)

    @classmethod
    def service(cls, name: str) -> Caller:
        return cls("service", service_name=name)

    @property
    def identity(self) -> str:
        """The name the policy table uses: anonymous, student, instructor, admin or service:<name>."""
        if self.kind == "service":
            return f"service:{self.service_name}"
        return self.role.lower() if self.kind == "user" else "anonymous"

    @property
    def is_admin(self) -> bool:
        return self.kind == "user" and self.role == "ADMIN"

    @property
    def privileged(self) -> bool:
        """An admin or a service: may set what only an administrator sets (roles, say)."""
        return self.is_admin or self.kind == "service"

    @property
    def bound_to_own_data(self) -> bool:
        """Students and instructors see only their own data; admins and services are not bound."""
        return self.kind == "user" and self.role != "ADMIN"


ANONYMOUS = Caller("anonymous")
# Outside the authenticate step nobody is trusted: code that runs a service in-process says who acts.
_current: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("caller", default=None)


def current() -> Caller:
    return _current.get() or ANONYMOUS


@contextmanager
def acting_as(caller: Caller) -> Iterator[None]:
    token = _current.set(caller)
    try:
        yield
    finally:
        _current.reset(token)


def bound_user() -> int | None:
    """The user a student's or instructor's call is bound to; None for admins and services."""
    caller = current()
    return caller.user_id if caller.bound_to_own_data else None


def require_privileged(what: str) -> None:
    if not current().privileged:
        raise PermissionDenied(f"only an admin {what}")


def require_owner(owner_id: int, what: str, key: object) -> None:
    """A student or instructor may touch only what they own; anything else reads as not existing."""
    caller = current()
    if caller.bound_to_own_data and caller.user_id != owner_id:
        raise NotFound(what, key)
