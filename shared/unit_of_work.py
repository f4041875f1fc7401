"""The unit of work: one transaction that the service layer opens, on one shard or on several that commit
together, and passes to its store's methods, which only load and save inside it.

The service decides what happens in it (its rules, and where a side effect such as a processor or an
inter-service call goes); the store says how (SQL). `shared.pg.unit_of_work.PgUnitsOfWork` is the real one,
`tests/unit/fake_units.FakeUnitsOfWork` the in-memory one. A body may run more than once, since a transaction
that lost a race is run again whole (`shared.pg.transactions`): it must not repeat a side effect outside the
database unless that is safe (a card authorization is asked once per call and its answer reused).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


class UnitOfWork(Protocol):
    """An open transaction; `shard` is its home, where it commits (and, over several shards, decides)."""

    @property
    def shard(self) -> str: ...


class UnitsOfWork(Protocol):
    """Opens units of work: `body(tx)` runs inside one, which commits when the body returns and rolls back
    when it raises."""

    def write(self, shard: str, body: Callable[[UnitOfWork], T]) -> T:
        """One transaction on `shard`'s primary."""
        ...

    def across(self, home: str, body: Callable[[UnitOfWork], T]) -> T:
        """One transaction on every shard the body touches, committed on all or none (`home` decides)."""
        ...
