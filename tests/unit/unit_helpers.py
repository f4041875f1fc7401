"""What the services' unit tests share: IDs on a chosen shard, and a fan-out that runs in the calling thread."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from shared import ids


def an_id(shard_map: Any, shard: str, sequence: int = 1) -> int:
    """An ID as `shard` would hand it out (the shard's number in its layout)."""
    return ids.encode(ids.EPOCH_MS + 1000, shard_map.by_name(shard).number, sequence)


class Serial:
    """A fan-out that runs in the calling thread."""

    @staticmethod
    def map(fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        return [fn(item) for item in items]
