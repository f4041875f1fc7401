"""PostgreSQL storage of sign-in: the password hash of an account, and refresh tokens (hashed) on its shard."""
from __future__ import annotations

from datetime import datetime

from shared import transactions
from shared.pg import ShardPools


class PgSessionStore:
    def __init__(self, pools: ShardPools):
        self.pools = pools

    def credentials(self, shard: str, user_id: int) -> tuple[str | None, str, str] | None:
        """(password hash or None, role, region) of a user, read on the primary (a sign-in decision)."""
        def fetch(cur) -> tuple[str | None, str, str] | None:
            cur.execute("SELECT password_hash, role, region FROM users WHERE id = %s", (user_id,))
            row = cur.fetchone()
            return (row[0], row[1], row[2]) if row else None

        return self.pools.read_one(shard, fetch, primary=True)

    def save(self, shard: str, user_id: int, token_hash: bytes, expires_at: datetime) -> None:
        def insert(cur) -> None:
            cur.execute("INSERT INTO refresh_tokens (token_hash, user_id, expires_at) VALUES (%s, %s, %s)",
                        (token_hash, user_id, expires_at))

        transactions.write(self.pools, shard, insert)

    def revoke(self, shard: str, token_hash: bytes) -> int | None:
        """Revoke a live token; returns its user, or None when it is unknown, expired or already revoked
        (two concurrent refreshes of one token: exactly one wins)."""
        def update(cur) -> int | None:
            cur.execute("UPDATE refresh_tokens SET revoked_at = now() WHERE token_hash = %s AND revoked_at IS NULL "
                        "AND expires_at > now() RETURNING user_id", (token_hash,))
            row = cur.fetchone()
            return row[0] if row else None

        return transactions.write(self.pools, shard, update)
