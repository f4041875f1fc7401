"""shared/pg/unit_of_work.py: a unit of work on one shard is one transaction on its primary, rerun whole after a
lost race, whose cursor serves only that shard (a write to another shard needs `across`)."""
import contextlib

import pytest

from shared.pg.unit_of_work import PgUnitsOfWork
from tests.unit.test_transactions import failing, mapped


class FakePools:
    """Hands out one cursor per transaction and counts what was opened and committed."""

    def __init__(self):
        self.opened, self.committed = [], 0

    @contextlib.contextmanager
    def write(self, shard):
        self.opened.append(shard)
        yield f"cursor {len(self.opened)} on {shard}"
        self.committed += 1


def test_each_attempt_gets_a_fresh_transaction_and_the_home_shards_cursor(monkeypatch):
    monkeypatch.setattr("shared.pg.transactions.time.sleep", lambda _s: None)
    pools = FakePools()
    seen = []
    attempt, calls = failing(mapped("40001"), result="done")

    def body(tx):
        seen.append((tx.shard, tx.cursor(), tx.cursor("eu")))
        return attempt()

    assert PgUnitsOfWork(pools).write("eu", body) == "done"
    assert pools.opened == ["eu", "eu"] and pools.committed == 1 and len(calls) == 2
    assert seen == [("eu", "cursor 1 on eu", "cursor 1 on eu"), ("eu", "cursor 2 on eu", "cursor 2 on eu")]


def test_a_one_shard_unit_refuses_a_cursor_on_another_shard():
    pools = FakePools()
    with pytest.raises(ValueError, match="across"):
        PgUnitsOfWork(pools).write("eu", lambda tx: tx.cursor("na"))
    assert pools.committed == 0
