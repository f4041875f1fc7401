"""PostgreSQL storage of sign-in attempts: one row per (scope, key), counted by one upsert on a shard's primary."""
from __future__ import annotations

import random

from shared.pg import transactions
from shared.pg.pools import ShardPools

# The upsert serialises concurrent attempts on the row's lock: each sees the count the one before it left.
COUNT = """
INSERT INTO sign_in_attempts AS a (scope, key, attempts, window_start) VALUES (%(scope)s, %(key)s, 1, now())
ON CONFLICT (scope, key) DO UPDATE SET
    attempts = CASE WHEN a.window_start <= now() - make_interval(secs => %(window)s) THEN 1 ELSE a.attempts + 1 END,
    window_start = CASE WHEN a.window_start <= now() - make_interval(secs => %(window)s) THEN now()
                        ELSE a.window_start END
RETURNING attempts, ceil(extract(epoch FROM window_start + make_interval(secs => %(window)s) - now()))::int
"""
GIVE_BACK = """
WITH gone AS (DELETE FROM sign_in_attempts WHERE scope = %(scope)s AND key = %(key)s AND attempts = 1)
UPDATE sign_in_attempts SET attempts = attempts - 1 WHERE scope = %(scope)s AND key = %(key)s AND attempts > 1
"""
# Rows of windows long past, a bounded batch at a time, so a flood of made-up emails cannot grow the table.
PRUNE = """
DELETE FROM sign_in_attempts WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM sign_in_attempts WHERE window_start < now() - make_interval(secs => %(window)s) LIMIT 1000))
"""
PRUNE_EVERY = 200  # one attempt in this many prunes its shard


class PgAttemptStore:
    def __init__(self, pools: ShardPools, prune_every: int = PRUNE_EVERY):
        self.pools = pools
        self.prune_every = prune_every

    def count(self, shard: str, scope: str, key: str, window_s: int) -> tuple[int, int]:
        params = {"scope": scope, "key": key, "window": window_s}
        prune = random.randrange(self.prune_every) == 0

        def upsert(cur) -> tuple[int, int]:
            cur.execute(COUNT, params)
            attempts, left_s = cur.fetchone()
            if prune:
                cur.execute(PRUNE, params)
            return int(attempts), int(left_s)

        return transactions.write(self.pools, shard, upsert)

    def clear(self, shard: str, scope: str, key: str) -> None:
        transactions.write(self.pools, shard, lambda cur: cur.execute(
            "DELETE FROM sign_in_attempts WHERE scope = %s AND key = %s", (scope, key)))

    def give_back(self, shard: str, scope: str, key: str) -> None:
        transactions.write(self.pools, shard, lambda cur: cur.execute(GIVE_BACK, {"scope": scope, "key": key}))
