"""PostgreSQL storage of users: rows on the home shard, the email directory on the email's hash shard."""
from __future__ import annotations

import json
from itertools import groupby

from services.users.domain import PROFILE_FIELDS, CreatedOutcome, NewUser, Profile, User, UserChanges
from shared import batches, idempotency
from shared.errors import AlreadyExists, NotFound
from shared.pg.pools import ShardPools
from shared.pg.unit_of_work import PgUnitOfWork

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
    """Reads go to a node the call's consistency allows; writes load and save in the service's unit of work, a
    cross-shard one: the user on its home shard, its email's directory entry on the shard the service names."""

    def __init__(self, pools: ShardPools):
        self.pools = pools

    def _fetch(self, cur, user_id: int) -> User | None:
        cur.execute(SELECT_USER + " WHERE u.id = %s", (user_id,))
        row = cur.fetchone()
        return _user(row) if row else None

    def create(self, tx: PgUnitOfWork, directory: str, user: NewUser, password_hash: str | None,
               request_id: str, request_fingerprint: bytes) -> User:
        cur = tx.cursor()
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
        self.add_directory_entry(tx, directory, user.email, user_id)
        return self.load(tx, user_id)

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

    def load(self, tx: PgUnitOfWork, user_id: int) -> User:
        """The user as this unit of work sees it on its home shard."""
        found = self._fetch(tx.cursor(), user_id)
        if found is None:
            raise NotFound("user", user_id)
        return found

    def lock_email(self, tx: PgUnitOfWork, user_id: int) -> str | None:
        """The user's email, its row locked until the unit of work ends; None when there is no such user."""
        cur = tx.cursor()
        cur.execute("SELECT email FROM users WHERE id = %s FOR UPDATE", (user_id,))
        row = cur.fetchone()
        return row[0] if row else None

    def save_changes(self, tx: PgUnitOfWork, user_id: int, changes: UserChanges) -> None:
        cur = tx.cursor()
        sets = {k: v for k, v in (("full_name", changes.full_name), ("email", changes.email), ("role", changes.role),
                                  ("password_hash", changes.password_hash)) if v is not None}
        if sets:
            cur.execute("UPDATE users SET " + ", ".join(f"{k} = %s" for k in sets) + " WHERE id = %s",
                        (*sets.values(), user_id))
        if changes.profile:
            cur.execute("UPDATE user_profiles SET " + ", ".join(f"{k} = %s" for k in changes.profile) +
                        " WHERE user_id = %s", (*changes.profile.values(), user_id))

    def add_directory_entry(self, tx: PgUnitOfWork, directory: str, email: str, user_id: int) -> None:
        """Claims `email` for the user on its directory shard; an email already taken is ALREADY_EXISTS."""
        tx.cursor(directory).execute("INSERT INTO email_directory (email, user_id) VALUES (%s, %s)", (email, user_id))

    def remove_directory_entry(self, tx: PgUnitOfWork, directory: str, email: str, user_id: int) -> None:
        tx.cursor(directory).execute("DELETE FROM email_directory WHERE email = %s AND user_id = %s",
                                     (email, user_id))

    def delete(self, tx: PgUnitOfWork, user_id: int) -> str | None:
        """Deletes the user (its profile and sessions go with it); returns its email, None when there was none."""
        cur = tx.cursor()
        cur.execute("DELETE FROM users WHERE id = %s RETURNING email", (user_id,))
        row = cur.fetchone()
        return row[0] if row else None

    def batch_create(self, tx: PgUnitOfWork, items: list[tuple[int, tuple[NewUser, str | None]]],
                     directories: dict[str, str], request_id: str, request_fingerprint: bytes) -> list[CreatedOutcome]:
        """One home shard's part of a batch in a cross-shard unit of work: the email directory entries first (on
        the shard `directories` names for each email), shard by shard in name order and by email within each
        (one lock order for every batch, so two batches never wait on each other across shards), then the users
        of the emails that were free."""
        cur = tx.cursor()
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
        ordered = sorted(by_email, key=lambda email: (directories[email], email))
        for directory, emails in groupby(ordered, key=directories.__getitem__):
            emails = list(emails)
            dir_cur = tx.cursor(directory)
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
        return [CreatedOutcome(index, user=users[user_id]) if user_id else
                CreatedOutcome(index, error=AlreadyExists("user", "email")) for index, user_id, _ in results]

    def _fetch_many(self, cur, user_ids: list[int]) -> dict[int, User]:
        cur.execute(SELECT_USER + " WHERE u.id = ANY(%s)", (user_ids,))
        return {row[0]: _user(row) for row in cur.fetchall()}
