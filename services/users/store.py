"""PostgreSQL storage of users: rows on the home shard, the email directory on the email's hash shard."""
from __future__ import annotations

from collections.abc import Callable

from services.users.domain import PROFILE_FIELDS, NewUser, Profile, User, UserChanges
from shared import idempotency
from shared.errors import NotFound
from shared.pg import ShardPools
from shared.twophase import CrossShardWrite

CREATE_METHOD = "users.CreateUser"
SELECT_USER = (
    "SELECT u.id, u.email, u.full_name, u.region, u.role, u.password_hash IS NOT NULL, u.created_at, "
    "greatest(u.updated_at, p.updated_at), " + ", ".join(f"coalesce(p.{f}, '')" for f in PROFILE_FIELDS) +
    " FROM users u LEFT JOIN user_profiles p ON p.user_id = u.id")


def _user(row) -> User:
    return User(id=row[0], email=row[1], full_name=row[2], region=row[3], role=row[4], has_password=row[5],
                created_at=row[6], updated_at=row[7], profile=Profile(*row[8:]))


class PgUserStore:
    def __init__(self, pools: ShardPools):
        self.pools = pools

    def _fetch(self, cur, user_id: int) -> User | None:
        cur.execute(SELECT_USER + " WHERE u.id = %s", (user_id,))
        row = cur.fetchone()
        return _user(row) if row else None

    def create(self, home: str, directory: str, user: NewUser, password_hash: str | None,
               request_id: str, request_fingerprint: bytes) -> User:
        with CrossShardWrite(self.pools, home) as write:
            cur = write.cursor(home)
            user_id, replay = idempotency.begin_create(cur, CREATE_METHOD, request_id, request_fingerprint)
            if replay:
                existing = self._fetch(cur, replay.resource_id)
                if existing is None:
                    raise NotFound("user", replay.resource_id)  # created, then deleted
                return existing
            cur.execute("INSERT INTO users (id, email, full_name, region, role, password_hash) "
                        "VALUES (%s, %s, %s, %s, %s, %s)",
                        (user_id, user.email, user.full_name, user.region, user.role, password_hash))
            cur.execute("INSERT INTO user_profiles (user_id, " + ", ".join(PROFILE_FIELDS) + ") "
                        "VALUES (%s" + ", %s" * len(PROFILE_FIELDS) + ")",
                        (user_id, *(getattr(user.profile, f) for f in PROFILE_FIELDS)))
            write.cursor(directory).execute(
                "INSERT INTO email_directory (email, user_id) VALUES (%s, %s)", (user.email, user_id))
            created = self._fetch(cur, user_id)
            write.commit()
            return created

    def get(self, shard: str, user_id: int) -> User | None:
        return self.pools.read_one(shard, lambda cur: self._fetch(cur, user_id))

    def lookup_email(self, directory: str, email: str) -> int | None:
        def fetch(cur) -> int | None:
            cur.execute("SELECT user_id FROM email_directory WHERE email = %s", (email,))
            row = cur.fetchone()
            return row[0] if row else None

        return self.pools.read_one(directory, fetch)

    def list(self, shard: str, region: str, after_id: int, limit: int) -> list[User]:
        with self.pools.read(shard) as cur:
            cur.execute(SELECT_USER + " WHERE u.region = %s AND u.id > %s ORDER BY u.id LIMIT %s",
                        (region, after_id, limit))
            return [_user(r) for r in cur.fetchall()]

    def update(self, home: str, user_id: int, changes: UserChanges, directory_for: Callable[[str], str]) -> User:
        with CrossShardWrite(self.pools, home) as write:
            cur = write.cursor(home)
            cur.execute("SELECT email FROM users WHERE id = %s FOR UPDATE", (user_id,))
            row = cur.fetchone()
            if row is None:
                raise NotFound("user", user_id)
            old_email = row[0]
            sets = {k: v for k, v in (("full_name", changes.full_name), ("email", changes.email),
                                      ("role", changes.role), ("password_hash", changes.password_hash))
                    if v is not None}
            if sets:
                cur.execute("UPDATE users SET " + ", ".join(f"{k} = %s" for k in sets) + " WHERE id = %s",
                            (*sets.values(), user_id))
            if changes.profile:
                cur.execute("UPDATE user_profiles SET " + ", ".join(f"{k} = %s" for k in changes.profile) +
                            " WHERE user_id = %s", (*changes.profile.values(), user_id))
            if changes.email is not None and changes.email != old_email:
                write.cursor(directory_for(changes.email)).execute(
                    "INSERT INTO email_directory (email, user_id) VALUES (%s, %s)", (changes.email, user_id))
                write.cursor(directory_for(old_email)).execute(
                    "DELETE FROM email_directory WHERE email = %s AND user_id = %s", (old_email, user_id))
            updated = self._fetch(cur, user_id)
            write.commit()
            return updated

    def delete(self, home: str, user_id: int, directory_for: Callable[[str], str]) -> bool:
        with CrossShardWrite(self.pools, home) as write:
            cur = write.cursor(home)
            cur.execute("DELETE FROM users WHERE id = %s RETURNING email", (user_id,))
            row = cur.fetchone()
            if row is None:
                return False
            write.cursor(directory_for(row[0])).execute(
                "DELETE FROM email_directory WHERE email = %s AND user_id = %s", (row[0], user_id))
            write.commit()
            return True
