"""In-memory fakes of the users service's ports (UserStore, PasswordHasher) for unit tests."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime

from services.users.domain import NewUser, Profile, User, UserChanges
from shared import ids
from shared.errors import AlreadyExists, InvalidArgument, NotFound
from shared.sharding import ShardMap

CREATE_METHOD = "users.CreateUser"


class FakeHasher:
    def hash(self, password: str) -> str:
        return "fake$" + password


class FakeUserStore:
    """Mirrors PgUserStore: rows and idempotency keys on the home shard, email entries on the directory shard.

    Per-shard dicts are public so tests can assert where each row landed.
    """

    def __init__(self, shard_map: ShardMap, start_ms: int = ids.EPOCH_MS + 86_400_000):
        self.shard_map = shard_map
        self.users: dict[str, dict[int, User]] = {name: {} for name in shard_map.names}
        self.directory: dict[str, dict[str, int]] = {name: {} for name in shard_map.names}
        self.idempotency: dict[str, dict[tuple[str, str], tuple[bytes, int]]] = {n: {} for n in shard_map.names}
        self.password_hashes: dict[int, str | None] = {}
        self._now_ms = start_ms
        self._sequence = {name: 0 for name in shard_map.names}

    def _tick(self) -> datetime:
        self._now_ms += 1  # a strictly increasing clock keeps IDs in creation order
        return datetime.fromtimestamp(self._now_ms / 1000, tz=UTC)

    def _next_id(self, shard: str) -> int:
        self._sequence[shard] += 1
        return ids.encode(self._now_ms, self.shard_map.by_name(shard).number, self._sequence[shard])

    def _email_taken(self, email: str, except_id: int | None = None) -> bool:
        return any(u.email == email and u.id != except_id for rows in self.users.values() for u in rows.values())

    def create(self, home: str, directory: str, user: NewUser, password_hash: str | None,
               request_id: str, request_fingerprint: bytes) -> User:
        keys = self.idempotency[home]
        if request_id and (CREATE_METHOD, request_id) in keys:
            stored_fingerprint, stored_id = keys[(CREATE_METHOD, request_id)]
            if stored_fingerprint != request_fingerprint:
                raise InvalidArgument("request_id", "was already used by a request with different parameters",
                                      reason="REQUEST_ID_REUSED")
            existing = self.users[home].get(stored_id)
            if existing is None:
                raise NotFound("user", stored_id)
            return existing
        if self._email_taken(user.email) or user.email in self.directory[directory]:
            raise AlreadyExists("user", "email", user.email)
        now = self._tick()
        user_id = self._next_id(home)
        created = User(id=user_id, email=user.email, full_name=user.full_name, region=user.region, role=user.role,
                       profile=user.profile, has_password=password_hash is not None, created_at=now,
                       updated_at=now)
        self.users[home][user_id] = created
        self.directory[directory][user.email] = user_id
        self.password_hashes[user_id] = password_hash
        if request_id:
            keys[(CREATE_METHOD, request_id)] = (request_fingerprint, user_id)
        return created

    def get(self, shard: str, user_id: int) -> User | None:
        return self.users[shard].get(user_id)

    def lookup_email(self, directory: str, email: str) -> int | None:
        return self.directory[directory].get(email)

    def list(self, shard: str, region: str, after_id: int, limit: int) -> list[User]:
        rows = sorted((u for u in self.users[shard].values() if u.region == region and u.id > after_id),
                      key=lambda u: u.id)
        return rows[:limit]

    def update(self, home: str, user_id: int, changes: UserChanges,
               directory_for: Callable[[str], str]) -> User:
        old = self.users[home].get(user_id)
        if old is None:
            raise NotFound("user", user_id)
        if changes.email is not None and changes.email != old.email:
            if self._email_taken(changes.email, except_id=user_id):
                raise AlreadyExists("user", "email", changes.email)
            del self.directory[directory_for(old.email)][old.email]
            self.directory[directory_for(changes.email)][changes.email] = user_id
        if changes.password_hash is not None:
            self.password_hashes[user_id] = changes.password_hash
        fields = {k: v for k, v in (("full_name", changes.full_name), ("email", changes.email),
                                    ("role", changes.role)) if v is not None}
        updated = dataclasses.replace(
            old, **fields, profile=dataclasses.replace(old.profile, **changes.profile) if changes.profile
            else old.profile, has_password=old.has_password or changes.password_hash is not None,
            updated_at=self._tick())
        self.users[home][user_id] = updated
        return updated

    def delete(self, home: str, user_id: int, directory_for: Callable[[str], str]) -> bool:
        user = self.users[home].pop(user_id, None)
        if user is None:
            return False
        self.directory[directory_for(user.email)].pop(user.email, None)
        self.password_hashes.pop(user_id, None)
        return True


def empty_profile() -> dict[str, str]:
    """The profile dict the API layer passes: every field present, all blank."""
    return {f.name: "" for f in dataclasses.fields(Profile)}
