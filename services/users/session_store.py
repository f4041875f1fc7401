"""PostgreSQL storage of sign-in: the password hash of an account, refresh tokens (hashed) and ended sessions,
each on the account's home shard."""
from __future__ import annotations

from datetime import datetime

from shared.pg import transactions
from shared.pg.pools import ShardPools


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

    def save(self, shard: str, user_id: int, token_hash: bytes, expires_at: datetime, session_id: str) -> None:
        def insert(cur) -> None:
            cur.execute("INSERT INTO refresh_tokens (token_hash, user_id, expires_at, session_id) "
                        "VALUES (%s, %s, %s, %s)", (token_hash, user_id, expires_at, session_id))

        transactions.write(self.pools, shard, insert)

    def revoke(self, shard: str, token_hash: bytes) -> tuple[int, str | None] | None:
        """Revoke a live token; returns (its user, its session), or None when it is unknown, expired or already
        revoked (two concurrent refreshes of one token: exactly one wins)."""
        def update(cur) -> tuple[int, str | None] | None:
            cur.execute("UPDATE refresh_tokens SET revoked_at = now() WHERE token_hash = %s AND revoked_at IS NULL "
                        "AND expires_at > now() RETURNING user_id, session_id", (token_hash,))
            row = cur.fetchone()
            return (row[0], row[1]) if row else None

        return transactions.write(self.pools, shard, update)

    def end_session(self, shard: str, user_id: int, session_id: str, until: datetime) -> None:
        """List the session as ended until `until`; sessions whose listing has lapsed leave the list."""
        def insert(cur) -> None:
            cur.execute("INSERT INTO revoked_sessions (session_id, user_id, expires_at) VALUES (%s, %s, %s) "
                        "ON CONFLICT (session_id) DO NOTHING", (session_id, user_id, until))
            cur.execute("DELETE FROM revoked_sessions WHERE expires_at < now()")

        transactions.write(self.pools, shard, insert)

    def ended_sessions(self, shard: str) -> list[str]:
        """The sessions listed as ended on `shard` whose access tokens may still be unexpired."""
        def fetch(cur) -> list[str]:
            cur.execute("SELECT session_id FROM revoked_sessions WHERE expires_at > now()")
            return [row[0] for row in cur.fetchall()]

        # A replica (synchronous) is enough and spares the primary; during a failover the poll fails fast
        # rather than wait for a leader, and the pollers keep their last list.
        return self.pools.read_one(shard, fetch) or []
