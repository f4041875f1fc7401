"""The in-memory unit of work of the unit tests (`shared.unit_of_work.UnitsOfWork`) over a fake store.

A body runs with the store to itself (one at a time); when it raises, what it changed in the store is undone,
as a rollback would. `lose_races(n)` makes the next n attempts fail at commit as a serialization failure, so a
test sees the body run again whole (`shared.pg.transactions.retrying`, as the real unit of work).
"""
from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from shared.pg import errors, transactions

T = TypeVar("T")
NOT_ROLLED_BACK = ("calls", "shard_map")  # the fakes' call log and topology are not data


class LostRace(Exception):
    """What the driver raises for a serialization failure, as far as the retry looks at it."""

    pgcode = errors.SERIALIZATION_FAILURE


class FakeUnitOfWork:
    def __init__(self, shard: str, across: bool):
        self._shard = shard
        self.across = across

    @property
    def shard(self) -> str:
        return self._shard


class FakeUnitsOfWork:
    def __init__(self, store: Any):
        self.store = store
        self.opened: list[tuple[str, str]] = []  # ("write" | "across", shard) per attempt
        self.rolled_back = 0
        self._races_to_lose = 0
        self._lock = threading.RLock()

    def lose_races(self, count: int) -> None:
        self._races_to_lose = count

    def write(self, shard: str, body: Callable[[Any], T]) -> T:
        return transactions.retrying(lambda: self._attempt("write", shard, body), sleep=lambda _s: None)

    def across(self, home: str, body: Callable[[Any], T]) -> T:
        return transactions.retrying(lambda: self._attempt("across", home, body), sleep=lambda _s: None)

    def _attempt(self, kind: str, shard: str, body: Callable[[Any], T]) -> T:
        with self._lock:
            self.opened.append((kind, shard))
            saved = copy.deepcopy({k: v for k, v in vars(self.store).items() if k not in NOT_ROLLED_BACK})
            try:
                result = body(FakeUnitOfWork(shard, across=kind == "across"))
                if self._races_to_lose:
                    self._races_to_lose -= 1
                    raise LostRace("could not serialize access")
                return result
            except BaseException:
                vars(self.store).update(saved)
                self.rolled_back += 1
                raise
