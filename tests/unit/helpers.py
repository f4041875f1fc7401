"""Small builders shared by the users service tests."""
from __future__ import annotations

from services.users.domain import User
from services.users.service import UserService
from tests.unit.fakes import empty_profile


def create(service: UserService, **overrides) -> User:
    """Create a valid EUROPE user; any argument of create_user can be overridden."""
    args = dict(full_name="Ada Lovelace", email="ada@example.com", region="EUROPE", role="",
                profile=empty_profile(), password="", request_id="")
    args.update(overrides)
    return service.create_user(**args)


def update(service: UserService, user_id: int, mask: set[str], **overrides) -> User:
    """Update with the API layer's defaults: every unmasked field blank."""
    args = dict(full_name="", email="", role="", profile=empty_profile(), password="")
    args.update(overrides)
    return service.update_user(user_id, mask, **args)


def violations(err) -> list[str]:
    return [v.field for v in err.value.violations]
