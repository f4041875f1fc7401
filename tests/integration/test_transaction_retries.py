"""shared.pg.transactions against a real primary: a deadlock PostgreSQL detects between two writers, seen through
the pool's own error translation, is retried and both writers succeed with their writes applied once."""
from __future__ import annotations

import collections
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.pg import transactions
from shared.pg.pools import ShardPools

SHARD = "eu"


@pytest.fixture
def probe(cluster):
    cluster.execute(SHARD, "CREATE TABLE test_retry_probe (id integer PRIMARY KEY, n integer NOT NULL DEFAULT 0)")
    cluster.execute(SHARD, "INSERT INTO test_retry_probe (id) VALUES (1), (2)")
    pools = ShardPools.from_settings(cluster.settings("courses"))  # follows the leader, wherever tests moved it
    try:
        yield pools
    finally:
        pools.close()
        cluster.execute(SHARD, "DROP TABLE test_retry_probe")


@pytest.mark.slow
def test_a_deadlock_between_two_writers_is_retried_and_both_succeed(cluster, probe):
    attempts: collections.Counter[str] = collections.Counter()
    both_hold_their_first_row = threading.Barrier(2, timeout=10)

    def writer(name: str, first: int, second: int):
        def body(cur) -> int:
            attempts[name] += 1
            cur.execute("UPDATE test_retry_probe SET n = n + 1 WHERE id = %s", (first,))
            if attempts[name] == 1:  # only the first attempts meet, so they lock in opposite orders
                both_hold_their_first_row.wait()
            cur.execute("UPDATE test_retry_probe SET n = n + 1 WHERE id = %s", (second,))
            return attempts[name]

        return transactions.write(probe, SHARD, body)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = [pool.submit(writer, "a", 1, 2), pool.submit(writer, "b", 2, 1)]
        final_attempts = sorted(r.result(timeout=30) for r in results)
    assert final_attempts == [1, 2]  # PostgreSQL aborted one of them (40P01); its second attempt went through
    assert cluster.query(SHARD, "primary", "SELECT id, n FROM test_retry_probe ORDER BY id") == [(1, 2), (2, 2)]
