"""The rules of the users service: validation, placement, idempotency, email uniqueness. No gRPC, no SQL."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from services.users import rules
from services.users.domain import CreatedOutcome, NewUser, NewUserRequest, User, UserChanges
from shared import batches, field_masks, idempotency, pagination
from shared.auth import caller
from shared.errors import DomainError, InvalidArgument, NotFound, ShardUnavailable, Unavailable, Violations
from shared.fan_out import FanOut
from shared.sharding import ShardMap
from shared.unit_of_work import UnitOfWork, UnitsOfWork


class UserStore(Protocol):
    """Storage of users; `PgUserStore` is the real one, tests use a fake. Writes take a cross-shard unit of work
    (the user's home shard, and its email's directory shard, which the service names)."""

    def create(self, tx: UnitOfWork, directory: str, user: NewUser, password_hash: str | None,
               request_id: str, request_fingerprint: bytes) -> User: ...

    def load(self, tx: UnitOfWork, user_id: int) -> User: ...

    def lock_email(self, tx: UnitOfWork, user_id: int) -> str | None: ...

    def save_changes(self, tx: UnitOfWork, user_id: int, changes: UserChanges) -> None: ...

    def add_directory_entry(self, tx: UnitOfWork, directory: str, email: str, user_id: int) -> None: ...

    def remove_directory_entry(self, tx: UnitOfWork, directory: str, email: str, user_id: int) -> None: ...

    def delete(self, tx: UnitOfWork, user_id: int) -> str | None: ...

    def get(self, shard: str, user_id: int) -> User | None: ...

    def lookup_email(self, directory: str, email: str) -> int | None: ...

    def list(self, shard: str, region: str, after_id: int, limit: int) -> list[User]: ...

    def batch_create(self, tx: UnitOfWork, items: list[tuple[int, tuple[NewUser, str | None]]],
                     directories: dict[str, str], request_id: str,
                     request_fingerprint: bytes) -> list[CreatedOutcome]: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...


UPDATABLE = ("full_name", "email", "role", "profile", "password")


class UserService:
    def __init__(self, store: UserStore, shard_map: ShardMap, hasher: PasswordHasher, *, units: UnitsOfWork,
                 hash_workers: int = 2):
        self.store = store
        self.units = units
        self.shards = shard_map
        self.hasher = hasher
        # A batch's passwords are hashed this many at a time (each scrypt hash takes 128 MiB and a core).
        self.fan_out = FanOut(max_workers=hash_workers, thread_name_prefix="batch-hash", caller_runs_last=False)
        self.shard_fan_out = FanOut(max_workers=2 * len(shard_map.names), thread_name_prefix="batch-shards")

    def _validated(self, full_name: str, email: str, region: str, role: str, profile: dict[str, str],
                   password: str, violations: Violations, prefix: str = "") -> tuple[NewUser, str]:
        """The normalised user and its home shard; each bad field added to `violations` under `prefix`."""
        new = NewUser(
            full_name=rules.check_full_name(full_name, violations, f"{prefix}user.full_name"),
            email=rules.check_email(email, violations, f"{prefix}user.email"),
            region=region,
            role=rules.check_role(role, violations, f"{prefix}user.role"),
            profile=rules.profile_from(rules.check_profile(profile, violations, f"{prefix}user.profile")),
        )
        home = ""
        try:
            home = self.shards.for_region(region, field=f"{prefix}user.region").name
        except InvalidArgument as exc:
            violations.items.extend(exc.violations)
        rules.check_password(password, violations, f"{prefix}password")
        return new, home

    @staticmethod
    def _fingerprint(new: NewUser, password: str) -> bytes:
        return idempotency.fingerprint({**new.__dict__, "profile": new.profile.__dict__,
                                        "has_password": bool(password)})

    def create_user(self, full_name: str, email: str, region: str, role: str, profile: dict[str, str],
                    password: str, request_id: str) -> User:
        violations = Violations()
        new, home = self._validated(full_name, email, region, role, profile, password, violations)
        violations.raise_if_any()
        if new.role != "STUDENT":
            caller.require_privileged("creates an account of another role than STUDENT")
        idempotency.check_request_id(request_id)
        password_hash = self.hasher.hash(password) if password else None
        directory = self._directory_for(new.email)
        fingerprint = self._fingerprint(new, password)
        try:
            return self.units.across(home, lambda tx: self.store.create(tx, directory, new, password_hash, request_id,
                                                                        fingerprint))
        except ShardUnavailable as exc:
            refused = directory_unavailable(exc, home, directory)
            if refused is None:
                raise
            raise refused from exc

    def batch_create_users(self, items: list[NewUserRequest], request_id: str) -> list[CreatedOutcome]:
        """Every item checked first (emails unique within the batch too); passwords hashed `hash_workers` at a
        time; then each home shard's users in one cross-shard transaction, the home shards in parallel."""
        checked: list[tuple[NewUser, str]] = []
        first_of: dict[str, int] = {}

        def check(index: int, item: NewUserRequest, violations: Violations) -> None:
            prefix = f"{batches.FIELD}[{index}]."
            new, home = self._validated(*item[:6], violations, prefix)
            checked.append((new, home))
            earlier = first_of.setdefault(new.email, index) if not rules.email_problem(new.email) else index
            if earlier != index:
                violations.add(f"{prefix}user.email", f"repeats {batches.field_path(earlier, 'user.email')}")
            if item.request_id:
                violations.add(f"{prefix}request_id", "must be empty: the batch has one request_id")

        batches.check_batch(items, request_id, check)
        fingerprint = batches.batch_fingerprint("BatchCreateUsers", [
            (self._fingerprint(new, item.password).hex(),) for (new, _), item in zip(checked, items, strict=False)])
        hashes = list(self.fan_out.map(lambda item: self.hasher.hash(item.password) if item.password else None,
                                       items))
        parts = batches.split_by_shard([(home, (new, password_hash))
                                        for (new, home), password_hash in zip(checked, hashes, strict=False)])

        def write(home: str) -> list[CreatedOutcome]:
            directories = {new.email: self._directory_for(new.email) for _, (new, _hash) in parts[home]}
            try:
                return self.units.across(home, lambda tx: self.store.batch_create(tx, parts[home], directories,
                                                                                  request_id, fingerprint))
            except InvalidArgument:
                raise  # the request_id names another batch: the whole call is wrong
            except DomainError as exc:
                return [CreatedOutcome(index, error=exc) for index, _ in parts[home]]

        outcomes = [o for part in self.shard_fan_out.map(write, list(parts)) for o in part]
        return sorted(outcomes, key=lambda o: o.index)

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
        return self.units.across(home, lambda tx: self._update(tx, user_id, changes))

    def _update(self, tx: UnitOfWork, user_id: int, changes: UserChanges) -> User:
        """Saves the changes; a new email moves the user's directory entry, both entries in this unit of work."""
        old_email = self.store.lock_email(tx, user_id)
        if old_email is None:
            raise NotFound("user", user_id)
        self.store.save_changes(tx, user_id, changes)
        if changes.email is not None and changes.email != old_email:
            self.store.add_directory_entry(tx, self._directory_for(changes.email), changes.email, user_id)
            self.store.remove_directory_entry(tx, self._directory_for(old_email), old_email, user_id)
        return self.store.load(tx, user_id)

    def _directory_for(self, email: str) -> str:
        return self.shards.for_key(email).name

    def delete_user(self, user_id: int) -> None:
        def body(tx: UnitOfWork) -> None:
            email = self.store.delete(tx, user_id)
            if email is None:
                raise NotFound("user", user_id)
            self.store.remove_directory_entry(tx, self._directory_for(email), email, user_id)

        self.units.across(self.shards.for_id(user_id).name, body)


def directory_unavailable(exc: ShardUnavailable, home: str, directory: str) -> Unavailable | None:
    """A sign-up needs its email's directory entry (the uniqueness check of every email, on the shard its hash
    picks): while that shard has no writable node, sign-ups whose emails hash there are refused with this
    reason, naming the shard, and no user is created (the home shard's part is rolled back with it). Only a
    directory shard that could not be reached is named: an unconfirmed commit keeps its own reason."""
    if exc.shard != directory or directory == home or exc.reason != ShardUnavailable.reason:
        return None
    return Unavailable(f"cannot sign up this email now: its directory shard {directory} has no writable node; "
                       "retry with the same request_id in a few seconds", reason="EMAIL_DIRECTORY_UNAVAILABLE",
                       metadata={"shard": directory})
