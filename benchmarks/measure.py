"""Drive one unary RPC at a fixed concurrency for a while with grpc.aio and summarise rate and latency; run
several measurements side by side (A B C C B A) so that a machine whose speed drifts weighs on all alike, or
at once (at_once), so that a noisy one does."""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Figures:
    label: str
    concurrency: int
    calls: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    latencies_ms: tuple[float, ...] = field(default=(), repr=False)  # sorted
    all_calls: int = 0  # every call made, the warm-up's and failed ones too (what the server did work for)

    @classmethod
    def of(cls, label: str, concurrency: int, latencies_ms: Sequence[float], errors: int,
           seconds: float, all_calls: int = 0) -> Figures:
        ordered = tuple(sorted(latencies_ms))
        return cls(label, concurrency, len(ordered), errors, seconds, percentile(ordered, 0.5),
                   percentile(ordered, 0.99), ordered, all_calls)

    @property
    def rate(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return (f"{self.label:<28} c={self.concurrency:<3} {self.rate:>8.0f} calls/s  p50 {self.p50_ms:6.2f} ms  "
                f"p99 {self.p99_ms:6.2f} ms  errors {self.errors}")


def percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def drive(label: str, call: Callable[[int], Awaitable[object]], concurrency: int, seconds: float,
                warmup_s: float = 1.0) -> Figures:
    """Run `call(i)` from `concurrency` tasks; latencies count only after the warm-up."""
    latencies: list[float] = []
    errors = all_calls = 0
    start = time.perf_counter()
    measure_from = start + warmup_s
    stop_at = measure_from + seconds

    async def worker(worker_id: int) -> None:
        nonlocal errors, all_calls
        i = worker_id
        while True:
            began = time.perf_counter()
            if began >= stop_at:
                return
            try:
                await call(i)
            except Exception:
                if began >= measure_from:
                    errors += 1
            else:
                if began >= measure_from:
                    latencies.append(time.perf_counter() - began)
            all_calls += 1
            i += concurrency

    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return Figures.of(label, concurrency, [latency * 1000 for latency in latencies], errors, seconds, all_calls)


def combine(parts: Sequence[Figures]) -> Figures:
    """One measurement made of several runs of the same thing."""
    return Figures.of(parts[0].label, parts[0].concurrency, [v for p in parts for v in p.latencies_ms],
                      sum(p.errors for p in parts), sum(p.seconds for p in parts), sum(p.all_calls for p in parts))


def side_by_side(runs: Mapping[str, Callable[[float], Figures]], seconds: float) -> dict[str, Figures]:
    """Each run twice for half of `seconds`, in the order A B C C B A: a machine that speeds up or slows
    down during the measurement (a shared host does) then weighs on every run alike, and their ratios hold."""
    halves: dict[str, list[Figures]] = {name: [] for name in runs}
    for name in [*runs, *reversed(list(runs))]:
        halves[name].append(runs[name](seconds / 2))
    return {name: combine(parts) for name, parts in halves.items()}


def at_once(runs: Mapping[str, Callable[[float], Figures]], seconds: float) -> dict[str, Figures]:
    """Every run at the same time, each in its own thread, for `seconds`: what else the host is doing weighs on
    all of them at every moment (side_by_side only evens out a drift), at the price of their sharing it."""
    measured: dict[str, Figures] = {}
    threads = [threading.Thread(target=lambda name=name: measured.__setitem__(name, runs[name](seconds)))
               for name in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {name: measured[name] for name in runs}
