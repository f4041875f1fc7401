"""The unit of work on PostgreSQL: one transaction on a shard's primary (`ShardPools.write`), or one over
several shards committed with two-phase commit (`CrossShardWrite`), run again whole after a lost race."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from shared.pg import transactions
from shared.pg.pools import ShardPools
from shared.pg.twophase import CrossShardWrite
from shared.unit_of_work import UnitOfWork

T = TypeVar("T")


class PgUnitOfWork:
    """The transaction a store's methods load and save in: `cursor()` on the home shard, `cursor(other)` on
    another shard of a cross-shard unit."""

    def __init__(self, shard: str, cursor_on: Callable[[str], Any]):
        self._shard = shard
        self._cursor_on = cursor_on

    @property
    def shard(self) -> str:
        return self._shard

    def cursor(self, shard: str | None = None) -> Any:
        return self._cursor_on(shard or self._shard)


class PgUnitsOfWork:
    """Opens units of work on the shards of `pools` (`shared.unit_of_work.UnitsOfWork`)."""

    def __init__(self, pools: ShardPools):
        self.pools = pools

    def write(self, shard: str, body: Callable[[UnitOfWork], T]) -> T:
        def attempt() -> T:
            with self.pools.write(shard) as cur:
                return body(PgUnitOfWork(shard, lambda on: _only(shard, on, cur)))

        return transactions.retrying(attempt)

    def across(self, home: str, body: Callable[[UnitOfWork], T]) -> T:
        def attempt() -> T:
            with CrossShardWrite(self.pools, home) as write:
                result = body(PgUnitOfWork(home, write.cursor))
                write.commit()
                return result

        return transactions.retrying(attempt)


def _only(shard: str, asked: str, cur: Any) -> Any:
    if asked != shard:
        raise ValueError(f"a unit of work on shard {shard} cannot write to shard {asked}; open it with across()")
    return cur
