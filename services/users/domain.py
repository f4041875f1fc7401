"""The users domain model: plain values, free of gRPC and of the database driver."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from shared.errors import DomainError

ROLES = ("STUDENT", "INSTRUCTOR", "ADMIN")
PROFILE_FIELDS = ("headline", "bio", "avatar_url", "website_url", "time_zone", "language")


@dataclass(frozen=True)
class Profile:
    headline: str = ""
    bio: str = ""
    avatar_url: str = ""
    website_url: str = ""
    time_zone: str = ""
    language: str = ""


@dataclass(frozen=True)
class NewUser:
    """A validated, normalised user to create."""

    email: str
    full_name: str
    region: str
    role: str = "STUDENT"
    profile: Profile = field(default_factory=Profile)


@dataclass(frozen=True)
class User:
    id: int
    email: str
    full_name: str
    region: str
    role: str
    profile: Profile
    has_password: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class UserChanges:
    """A validated update: only the fields named by the update mask are set (None = unchanged)."""

    full_name: str | None = None
    email: str | None = None
    role: str | None = None
    profile: dict[str, str] = field(default_factory=dict)
    password_hash: str | None = None


class NewUserRequest(NamedTuple):
    """One item of BatchCreateUsers as the caller sent it (enums as names), before validation."""

    full_name: str
    email: str
    region: str
    role: str
    profile: dict[str, str]
    password: str
    request_id: str = ""


@dataclass(frozen=True)
class CreatedOutcome:
    """One item's result: the user created (or replayed), or why not."""

    index: int
    user: User | None = None
    error: DomainError | None = None
