"""Run one phase of independent calls on a shared thread pool, counting progress; the first failure stops it."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TypeVar

from launcher.progress import Progress

T = TypeVar("T")
R = TypeVar("R")


class Phases:
    def __init__(self, workers: int, progress: Progress):
        self.pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="phase")
        self.progress = progress

    def run(self, label: str, items: Sequence[T], work: Callable[[T], R]) -> list[R]:
        """work(item) for every item, results in the items' order. On a failure the calls not yet started are
        cancelled and the exception propagates once the running ones end."""
        self.progress.start(label, len(items))
        futures = {self.pool.submit(work, item): i for i, item in enumerate(items)}
        results: list = [None] * len(items)
        try:
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                self.progress.step()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        self.progress.finish()
        return results

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Phases:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
