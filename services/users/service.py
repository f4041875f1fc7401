"""The rules of the users service: validation, placement, idempotency, email uniqueness. No gRPC, no SQL."""
from __future__ import annotations

from typing import Callable, Iterable, Protocol

from services.users import rules
from services.users.domain import NewUser, User, UserChanges
from shared.auth import caller
from shared import field_masks, idempotency, pagination
from shared.errors import InvalidArgument, NotFound, Violations
from shared.sharding import ShardMap


class UserStore(Protocol):
    """Storage of users; `PgUserStore` is the real one, tests use a fake."""

    def create(self, home: str, directory: str, user: NewUser, password_hash: str | None,
               request_id: str, request_fingerprint: bytes) -> User: ...

    def get(self, shard: str, user_id: int) -> User | None: ...

    def lookup_email(self, directory: str, email: str) -> int | None: ...

    def list(self, shard: str, region: str, after_id: int, limit: int) -> list[User]: ...

    def update(self, home: str, user_id: int, changes: UserChanges,
               directory_for: Callable[[str], str]) -> User: ...

    def delete(self, home: str, user_id: int, directory_for: Callable[[str], str]) -> bool: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...


UPDATABLE = ("full_name", "email", "role", "profile", "password")


class UserService:
    def __init__(self, store: UserStore, shard_map: ShardMap, hasher: PasswordHasher):
        self.store = store
        self.shards = shard_map
        self.hasher = hasher

    def create_user(self, full_name: str, email: str, region: str, role: str, profile: dict[str, str],
                    password: str, request_id: str) -> User:
        violations = Violations()
        new = NewUser(
            full_name=rules.check_full_name(full_name, violations),
            email=rules.check_email(email, violations),
            region=region,
            role=rules.check_role(role, violations),
            profile=rules.profile_from(rules.check_profile(profile, violations)),
        )
        try:
            home = self.shards.for_region(region, field="user.region").name
        except InvalidArgument as exc:
            violations.items.extend(exc.violations)
        rules.check_password(password, violations)
        violations.raise_if_any()
        if new.role != "STUDENT":
            caller.require_privileged("creates an account of another role than STUDENT")
        idempotency.check_request_id(request_id)
        fingerprint = idempotency.fingerprint({**new.__dict__, "profile": new.profile.__dict__,
                                               "has_password": bool(password)})
        password_hash = self.hasher.hash(password) if password else None
        return self.store.create(home, self._directory_for(new.email), new, password_hash, request_id,
                                 fingerprint)

    def get_user(self, user_id: int) -> User:
        shard = self.shards.for_id(user_id).name
        user = self.store.get(shard, user_id)
        if user is None:
            raise NotFound("user", user_id)
        return user

    def get_user_by_email(self, email: str) -> User:
        email = rules.normalize_email(email)
        problem = rules.email_problem(email)
        if problem:
            raise InvalidArgument("email", problem)
        user_id = self.store.lookup_email(self.shards.for_key(email).name, email)
        user = self.store.get(self.shards.for_id(user_id).name, user_id) if user_id else None
        if user is None:
            raise NotFound("user", email)
        return user

    def list_users(self, region: str, page_size: int, page_token: str) -> tuple[list[User], str]:
        shard = self.shards.for_region(region).name
        limit = pagination.page_size(page_size)
        query = {"method": "ListUsers", "region": region}
        position = pagination.decode_token(page_token, query) or {"id": 0}
        after = position.get("id")
        if not isinstance(after, int):
            raise InvalidArgument("page_token", "is not a token returned by this method")
        users = self.store.list(shard, region, after, limit + 1)
        if len(users) <= limit:
            return users, ""
        users = users[:limit]
        return users, pagination.encode_token({"id": users[-1].id}, query)

    def update_user(self, user_id: int, paths: Iterable[str], full_name: str, email: str, role: str,
                    profile: dict[str, str], password: str) -> User:
        home = self.shards.for_id(user_id, field="user.id").name
        mask = field_masks.resolve(paths, UPDATABLE, messages=("profile",))
        violations = Violations()
        profile_paths = {p.split(".", 1)[1] for p in mask if p.startswith("profile.")}
        if "profile" in mask:
            profile_paths = set(profile)
        unknown = profile_paths - set(profile)
        for name in sorted(unknown):
            violations.add("update_mask", f"unknown profile field {name!r}")
        changes = UserChanges(
            full_name=rules.check_full_name(full_name, violations) if "full_name" in mask else None,
            email=rules.check_email(email, violations) if "email" in mask else None,
            role=rules.check_role(role, violations) if "role" in mask else None,
            profile=rules.check_profile({k: profile[k] for k in profile_paths & set(profile)}, violations),
        )
        if "password" in mask:
            rules.check_password(password, violations, required=True)
        violations.raise_if_any()
        if "role" in mask:
            caller.require_privileged("changes a role")
        if "password" in mask:
            changes = UserChanges(**{**changes.__dict__, "password_hash": self.hasher.hash(password)})
        return self.store.update(home, user_id, changes, self._directory_for)

    def _directory_for(self, email: str) -> str:
        return self.shards.for_key(email).name

    def delete_user(self, user_id: int) -> None:
        home = self.shards.for_id(user_id).name
        if not self.store.delete(home, user_id, self._directory_for):
            raise NotFound("user", user_id)
