"""Helpers for race tests: start many calls at the same instant and collect how each one ended."""
from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc


@dataclass(frozen=True)
class Outcome:
    code: str  # "OK" or a grpc.StatusCode name
    value: object = None
    details: str = ""


def together(calls: list[Callable[[], object]]) -> list[Outcome]:
    """Run every call on its own thread, released at once by a barrier; the outcomes in call order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> Outcome:
        barrier.wait()
        try:
            return Outcome("OK", call())
        except grpc.RpcError as exc:
            return Outcome(exc.code().name, details=exc.details() or "")

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def tally(outcomes: list[Outcome]) -> dict[str, int]:
    return dict(collections.Counter(o.code for o in outcomes))


def in_parallel(make: Callable[[int], object], n: int, workers: int = 8) -> list:
    """`make(i)` for i in range(n) on a few threads (test set-up, not a race)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(make, range(n)))
