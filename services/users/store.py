"""PostgreSQL storage of users: rows on the home shard, the email directory on the email's hash shard."""
from __future__ import annotations

import json
from collections.abc import Callable
from itertools import groupby

from services.users.domain import PROFILE_FIELDS, CreatedOutcome, NewUser, Profile, User, UserChanges
from shared import batches, idempotency
from shared.errors import AlreadyExists, NotFound
from shared.pg.pools import ShardPools
from shared.pg.twophase import CrossShardWrite

CREATE_METHOD = "users.CreateUser"
BATCH_METHOD = "users.BatchCreateUsers"
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

    def batch_create(self, home: str, items: list[tuple[int, tuple[NewUser, str | None]]],
                     directory_for: Callable[[str], str], request_id: str,
                     request_fingerprint: bytes) -> list[CreatedOutcome]:
        """One home shard's part of a batch in one cross-shard transaction: the email directory entries first,
        shard by shard in name order and by email within each (one lock order for every batch, so two batches
        never wait on each other across shards), then the users of the emails that were free."""
        with CrossShardWrite(self.pools, home) as write:
            cur = write.cursor(home)
            if request_id and not batches.claim(cur, BATCH_METHOD, request_id, request_fingerprint):
                cur.execute("SELECT results FROM batch_results WHERE method = %s AND request_id = %s",
                            (BATCH_METHOD, request_id))
                stored = cur.fetchone()[0]
                users = self._fetch_many(cur, [user_id for _, user_id, _ in stored if user_id])
                return [CreatedOutcome(index, user=users.get(user_id)) if user_id else
                        CreatedOutcome(index, error=AlreadyExists("user", "email")) for index, user_id, _ in stored]
            cur.execute("SELECT next_id() FROM generate_series(1, %s)", (len(items),))
            ids = {index: row[0] for (index, _), row in zip(items, cur.fetchall(), strict=False)}
            by_email = {new.email: index for index, (new, _) in items}
            free: set[str] = set()
            ordered = sorted(by_email, key=lambda email: (directory_for(email), email))
            for directory, emails in groupby(ordered, key=directory_for):
                emails = list(emails)
                dir_cur = write.cursor(directory)
                dir_cur.execute("INSERT INTO email_directory (email, user_id) SELECT * FROM unnest(%s::text[], "
                                "%s::bigint[]) ON CONFLICT DO NOTHING RETURNING email",
                                (emails, [ids[by_email[e]] for e in emails]))
                free.update(row[0] for row in dir_cur.fetchall())
            made = [(index, new, password_hash) for index, (new, password_hash) in items if new.email in free]
            if made:
                cur.execute("INSERT INTO users (id, email, full_name, region, role, password_hash) "
                            "SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], "
                            "%s::text[])", [[ids[i] for i, _, _ in made], *(
                                [getattr(new, f) for _, new, _ in made] for f in ("email", "full_name", "region",
                                                                                  "role")),
                                [h for _, _, h in made]])
                cur.execute("INSERT INTO user_profiles (user_id, " + ", ".join(PROFILE_FIELDS) + ") SELECT * FROM "
                            "unnest(%s::bigint[]" + ", %s::text[]" * len(PROFILE_FIELDS) + ")",
                            [[ids[i] for i, _, _ in made], *([getattr(new.profile, f) for _, new, _ in made]
                                                             for f in PROFILE_FIELDS)])
            results = [(index, ids[index] if new.email in free else None, new.email) for index, (new, _) in items]
            if request_id:
                cur.execute("UPDATE batch_results SET results = %s WHERE method = %s AND request_id = %s",
                            (json.dumps([[i, u, None] for i, u, _ in results]), BATCH_METHOD, request_id))
            users = self._fetch_many(cur, [ids[i] for i, _, _ in made])
            write.commit()
        return [CreatedOutcome(index, user=users[user_id]) if user_id else
                CreatedOutcome(index, error=AlreadyExists("user", "email")) for index, user_id, _ in results]

    def _fetch_many(self, cur, user_ids: list[int]) -> dict[int, User]:
        cur.execute(SELECT_USER + " WHERE u.id = ANY(%s)", (user_ids,))
        return {row[0]: _user(row) for row in cur.fetchall()}
