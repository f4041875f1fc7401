"""Drive one unary RPC at a fixed concurrency for a while with grpc.aio and summarise rate and latency."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Awaitable, Callable


@dataclass(frozen=True)
class Figures:
    label: str
    concurrency: int
    calls: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return (f"{self.label:<28} c={self.concurrency:<3} {self.rate:>8.0f} calls/s  p50 {self.p50_ms:6.2f} ms  "
                f"p99 {self.p99_ms:6.2f} ms  errors {self.errors}")


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def drive(label: str, call: Callable[[int], Awaitable[object]], concurrency: int, seconds: float,
                warmup_s: float = 1.0) -> Figures:
    """Run `call(i)` from `concurrency` tasks; latencies count only after the warm-up."""
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    measure_from = start + warmup_s
    stop_at = measure_from + seconds

    async def worker(worker_id: int) -> None:
        nonlocal errors
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
            i += concurrency

    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    latencies.sort()
    return Figures(label, concurrency, len(latencies), errors, seconds, percentile(latencies, 0.5) * 1000,
                   percentile(latencies, 0.99) * 1000)
