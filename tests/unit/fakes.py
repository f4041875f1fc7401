"""In-memory fakes of the users service's ports (UserStore, PasswordHasher) for unit tests."""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from services.users.domain import CreatedOutcome, NewUser, Profile, User, UserChanges
from shared import idempotency, ids
from shared.errors import AlreadyExists, NotFound
from shared.sharding import ShardMap
from tests.unit.fake_keys import FakeKeys
from tests.unit.fake_units import FakeUnitOfWork

CREATE_METHOD = "users.CreateUser"
BATCH_METHOD = "users.BatchCreateUsers"


class FakeHasher:
    def hash(self, password: str) -> str:
        return "fake$" + password


class FakeUserStore:
    """Mirrors PgUserStore: rows and idempotency keys on the unit of work's home shard, email entries on the
    directory shard the service names (an email already there is ALREADY_EXISTS, as the primary key).

    Per-shard dicts are public so tests can assert where each row landed.
    """

    def __init__(self, shard_map: ShardMap, start_ms: int = ids.EPOCH_MS + 86_400_000):
        self.shard_map = shard_map
        self.users: dict[str, dict[int, User]] = {name: {} for name in shard_map.names}
        self.directory: dict[str, dict[str, int]] = {name: {} for name in shard_map.names}
        self.idempotency: dict[str, dict[tuple[str, str], tuple[bytes, int]]] = {n: {} for n in shard_map.names}
        self.batch_keys = {name: FakeKeys() for name in shard_map.names}
        self.password_hashes: dict[int, str | None] = {}
        self._now_ms = start_ms
        self._sequence = {name: 0 for name in shard_map.names}

    def _tick(self) -> datetime:
        self._now_ms += 1  # a strictly increasing clock keeps IDs in creation order
        return datetime.fromtimestamp(self._now_ms / 1000, tz=UTC)

    def _next_id(self, shard: str) -> int:
        self._sequence[shard] += 1
        return ids.encode(self._now_ms, self.shard_map.by_name(shard).number, self._sequence[shard])

    def create(self, tx: FakeUnitOfWork, directory: str, user: NewUser, password_hash: str | None,
               request_id: str, request_fingerprint: bytes) -> User:
        home, keys = tx.shard, self.idempotency[tx.shard]
        if request_id and (CREATE_METHOD, request_id) in keys:
            stored_fingerprint, stored_id = keys[(CREATE_METHOD, request_id)]
            idempotency.check_same_request(stored_fingerprint, request_fingerprint)
            existing = self.users[home].get(stored_id)
            if existing is None:
                raise NotFound("user", stored_id)
            return existing
        now = self._tick()
        user_id = self._next_id(home)
        if request_id:
            keys[(CREATE_METHOD, request_id)] = (request_fingerprint, user_id)
        self.users[home][user_id] = User(
            id=user_id, email=user.email, full_name=user.full_name, region=user.region, role=user.role,
            profile=user.profile, has_password=password_hash is not None, created_at=now, updated_at=now)
        self.password_hashes[user_id] = password_hash
        self.add_directory_entry(tx, directory, user.email, user_id)
        return self.load(tx, user_id)

    def load(self, tx: FakeUnitOfWork, user_id: int) -> User:
        found = self.users[tx.shard].get(user_id)
        if found is None:
            raise NotFound("user", user_id)
        return found

    def lock_email(self, tx: FakeUnitOfWork, user_id: int) -> str | None:
        found = self.users[tx.shard].get(user_id)
        return found.email if found else None

    def save_changes(self, tx: FakeUnitOfWork, user_id: int, changes: UserChanges) -> None:
        old = self.users[tx.shard][user_id]
        if changes.password_hash is not None:
            self.password_hashes[user_id] = changes.password_hash
        fields = {k: v for k, v in (("full_name", changes.full_name), ("email", changes.email),
                                    ("role", changes.role)) if v is not None}
        self.users[tx.shard][user_id] = dataclasses.replace(
            old, **fields, profile=dataclasses.replace(old.profile, **changes.profile) if changes.profile
            else old.profile, has_password=old.has_password or changes.password_hash is not None,
            updated_at=self._tick())

    def add_directory_entry(self, tx: FakeUnitOfWork, directory: str, email: str, user_id: int) -> None:
        assert tx.across, "a directory entry is written in a cross-shard unit of work"
        if email in self.directory[directory]:
            raise AlreadyExists("user", "email", email)
        self.directory[directory][email] = user_id

    def remove_directory_entry(self, tx: FakeUnitOfWork, directory: str, email: str, user_id: int) -> None:
        if self.directory[directory].get(email) == user_id:
            del self.directory[directory][email]

    def delete(self, tx: FakeUnitOfWork, user_id: int) -> str | None:
        user = self.users[tx.shard].pop(user_id, None)
        if user is None:
            return None
        self.password_hashes.pop(user_id, None)
        return user.email

    def batch_create(self, tx: FakeUnitOfWork, items: list[tuple[int, tuple[NewUser, str | None]]],
                     directories: dict[str, str], request_id: str, request_fingerprint: bytes) -> list[CreatedOutcome]:
        """As PgUserStore: a user for each item whose email is free, ALREADY_EXISTS for the others; a replay of
        `request_id` answers the stored results."""
        home = tx.shard
        results: list[tuple[int, int | None]] | None = None
        if request_id:
            new, results = self.batch_keys[home].claim_batch(BATCH_METHOD, request_id, request_fingerprint)
        if results is None:
            results = []
            for index, (user, password_hash) in items:
                taken = user.email in self.directory[directories[user.email]]
                results.append((index, None if taken else self.create(tx, directories[user.email], user,
                                                                      password_hash, "", b"").id))
            if request_id:
                self.batch_keys[home].store_batch(BATCH_METHOD, request_id, results)
        return [CreatedOutcome(index, user=self.users[home].get(user_id)) if user_id else
                CreatedOutcome(index, error=AlreadyExists("user", "email")) for index, user_id in results]

    def get(self, shard: str, user_id: int) -> User | None:
        return self.users[shard].get(user_id)

    def lookup_email(self, directory: str, email: str) -> int | None:
        return self.directory[directory].get(email)

    def list(self, shard: str, region: str, after_id: int, limit: int) -> list[User]:
        rows = sorted((u for u in self.users[shard].values() if u.region == region and u.id > after_id),
                      key=lambda u: u.id)
        return rows[:limit]


def empty_profile() -> dict[str, str]:
    """The profile dict the API layer passes: every field present, all blank."""
    return {f.name: "" for f in dataclasses.fields(Profile)}
