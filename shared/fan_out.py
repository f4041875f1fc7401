"""A thread pool for reading or writing several shards at once, where each task sees the calling request's
context; the calling thread runs the last task itself.

Context variables (the call's deadline, read policy and trace) do not cross into executor threads by
themselves; every task here runs in a copy of the caller's context, so a STRONG call's fan-out reads the
primaries and its reads are reported in x-served-by.
"""
from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from shared import cpu_slots

Item = TypeVar("Item")
Result = TypeVar("Result")


def _run_here(fn: Callable[[Item], Result], item: Item) -> Future[Result]:
    """fn(item) in this thread, in a copy of its context; its outcome as a finished future (an error is
    raised when its result is reached, as a pool thread's would be)."""
    done: Future[Result] = Future()
    try:
        done.set_result(contextvars.copy_context().run(fn, item))
    except Exception as exc:
        done.set_exception(exc)
    return done


def _result(future: Future[Result]) -> Result:
    if future.done():
        return future.result()
    with cpu_slots.released():  # the caller only waits: its slot lets the tasks, or other calls, run Python
        return future.result()


class FanOut:
    """`caller_runs_last`: the calling thread runs the last item itself (in a copy of its context, as a pool
    thread would) instead of waiting idle, which saves a thread hand-off per call (a one-shard batch makes
    none). Off where `max_workers` is the bound on the work's parallelism (password hashing)."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "fan-out", *, caller_runs_last: bool = True):
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._caller_runs_last = caller_runs_last

    def map(self, fn: Callable[[Item], Result], items: Iterable[Item]) -> Iterator[Result]:
        """Like Executor.map: results in the order of `items`, the first error raised when reached."""
        pending = list(items)
        here = self._caller_runs_last and bool(pending)
        futures = [self._pool.submit(contextvars.copy_context().run, fn, item)
                   for item in (pending[:-1] if here else pending)]
        if here:
            futures.append(_run_here(fn, pending[-1]))
        return (_result(future) for future in futures)

    def shutdown(self, wait: bool = False) -> None:
        self._pool.shutdown(wait=wait)
