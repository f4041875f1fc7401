"""A thread pool for reading several shards at once, where each task sees the calling request's context.

Context variables (the call's deadline, read policy and trace) do not cross into executor threads by
themselves; every task here runs in a copy of the caller's context, so a STRONG call's fan-out reads the
primaries and its reads are reported in x-served-by.
"""
from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class FanOut:
    def __init__(self, max_workers: int, thread_name_prefix: str = "fan-out"):
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=thread_name_prefix)

    def map(self, fn: Callable[[Item], Result], items: Iterable[Item]) -> Iterator[Result]:
        """Like Executor.map: results in the order of `items`, the first error raised when reached."""
        futures = [self._pool.submit(contextvars.copy_context().run, fn, item) for item in items]
        return (future.result() for future in futures)

    def shutdown(self, wait: bool = False) -> None:
        self._pool.shutdown(wait=wait)
