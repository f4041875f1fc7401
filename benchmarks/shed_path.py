"""`make bench-shed`: how an overloaded server answers the calls it cannot serve, under each way of shedding,
measured side by side (each variant in turn, then again in reverse order) in one run.

The server runs in a child process whose workers spend part of each call in Python (holding the interpreter
lock in bursts, as handlers do between their database round trips); the client, an asyncio one in this
process, keeps them busy and sends storms of calls that can only be shed. Every call a server takes in, even
one it rejects, needs the interpreter lock on grpcio's one polling thread, so what decides how fast the
excess is answered is how many threads compete with that thread for the lock, and how often the lock changes
hands. Variants:

- `lane`: the rejection handed to a small pool of its own (what main did);
- `inline`: the rejection answered on the polling thread (`shared.shedding.InlineExecutor`);
- `switch`: inline, with the interpreter's switch interval cut from 5 ms to `SWITCH_S`;
- `slots`: inline, with at most `CPU_SLOTS` workers running Python at once (`shared.cpu_slots`: a worker
  gives its slot back while it waits, as the pools do around a database round trip);
- `both`: switch + slots (what `shared.server` does);
- `few`: switch, with `FEW` workers instead of slots;
- `core`: inline, with grpc C-core's own bound on calls waiting for the polling thread
  (`grpc.server.max_pending_requests`), which needs no interpreter lock, but answers CANCELLED.

The variants above queue nothing (`max_queue` 0) and each call lasts `BUSY_S` however many run. Two more
queue up to `QUEUE` calls, as the services do, and their calls do a fixed amount of Python each, so a call
takes longer the more of them run at once (a burst slows every call down, as sign-ups hashing passwords do);
each round's burst comes after a few calls alone, so admission's estimate of a call's time is a quiet one:

- `queue`: both, with the queue, and calls started however long they waited;
- `late`: the same, with calls that waited longer than the queue wait and half their deadline shed when they
  start (`shared.shedding`).

Prints, per variant, how many calls were shed, expired (DEADLINE_EXCEEDED) and served, and the shed calls'
median and p95 as fractions of the deadline.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import grpc

from shared import cpu_slots, shedding

METHOD = "/bench.Busy/Work"
WORKERS = 16
BUSY_S = 0.4  # each admitted call lasts this long: bursts of Python between waits, as a handler's round trips
BURST_S, WAIT_S = 0.002, 0.003  # 40 % of a call's time in Python
DEADLINE_S = 2.0
SWITCH_S = 0.001
CPU_SLOTS = 2
PENDING = 64  # calls C-core lets wait for the polling thread before it rejects new ones
FEW = 4  # workers of the `few` variant
QUEUE = 128  # calls the `queue` and `late` variants let wait for a worker (the services' ELEARN_MAX_QUEUE)
QUIET_CALLS = 3  # calls alone before each burst of those variants: admission learns a quiet call's time
# Their calls' Python a burst, measured alone: one process runs Python on one core at a time, so 16 calls of
# 80 such bursts take about 0.6 s together (0.3 s alone), inside the deadline, unlike 80 of BURST_S.
FIXED_BURST_S = 0.0005


@dataclass(frozen=True)
class Variant:
    name: str
    inline: bool = True
    switch_s: float = 0.0  # the interpreter's switch interval, when set
    slots: int = 0
    core: bool = False
    workers: int = WORKERS
    queue: int = 0  # calls let wait for a worker; with a queue, calls do a fixed amount of work (they slow down)
    late: bool = True  # calls that waited longer than the queue wait are shed when they start


VARIANTS = [Variant("lane", inline=False), Variant("inline"), Variant("switch", switch_s=SWITCH_S),
            Variant("slots", slots=CPU_SLOTS), Variant("both", switch_s=SWITCH_S, slots=CPU_SLOTS),
            Variant("both1", switch_s=SWITCH_S, slots=1), Variant("both05", switch_s=SWITCH_S / 2, slots=CPU_SLOTS),
            Variant("few", switch_s=SWITCH_S, workers=FEW), Variant("core", core=True),
            Variant("queue", switch_s=SWITCH_S, slots=CPU_SLOTS, queue=QUEUE, late=False),
            Variant("late", switch_s=SWITCH_S, slots=CPU_SLOTS, queue=QUEUE)]


def _work(_request: bytes, _context: grpc.ServicerContext) -> bytes:
    end = time.perf_counter() + BUSY_S
    while time.perf_counter() < end:
        burst_end = time.perf_counter() + BURST_S
        while time.perf_counter() < burst_end:
            pass
        with cpu_slots.released():  # as the pools do around a database round trip
            time.sleep(WAIT_S)
    return b""


def _spin(count: int) -> int:
    total = 0
    for i in range(count):
        total += i
    return total


def _spins_per_burst() -> int:
    """How many `_spin` steps take FIXED_BURST_S on this machine, alone."""
    count, start = 200_000, time.perf_counter()
    _spin(count)
    return max(1, int(count * FIXED_BURST_S / (time.perf_counter() - start)))


def _fixed_work(spins: int) -> Any:
    """A handler doing as many bursts as `_work` (FIXED_BURST_S of Python each, measured alone, and a wait):
    slower when others run too."""
    bursts = round(BUSY_S / (BURST_S + WAIT_S))

    def work(_request: bytes, _context: grpc.ServicerContext) -> bytes:
        for _ in range(bursts):
            _spin(spins)
            with cpu_slots.released():
                time.sleep(WAIT_S)
        return b""

    return work


def _serve(variant: Variant, spins: int, port: Any, stop: Any) -> None:
    if variant.switch_s:
        sys.setswitchinterval(variant.switch_s)
    limits = shedding.ShedLimits(max_workers=variant.workers, max_queue=variant.queue, retry_after_ms=100,
                                 max_queue_wait_ms=500, cpu_slots=variant.slots)
    shedder = shedding.Shedder(limits, domain="bench", name="bench")
    if not variant.late:
        def never_late(_context: grpc.ServicerContext) -> None:  # every call starts, and counts as run
            shedding._worker.ran = True  # noqa: SLF001 - what the real wait_left_s marks

        shedder.wait_left_s = never_late  # type: ignore[method-assign]
    work = _fixed_work(spins) if variant.queue else _work
    if not variant.inline:
        shedder._reject = shedding._on_pool(  # noqa: SLF001 - the variant main had
            grpc.stream_unary_rpc_method_handler(shedder._rejection), shedder.lane)  # noqa: SLF001
    handler = grpc.method_handlers_generic_handler("bench.Busy", {"Work": grpc.unary_unary_rpc_method_handler(work)})
    options = [("grpc.server.max_pending_requests", PENDING),
               ("grpc.server.max_pending_requests_hard_limit", PENDING)] if variant.core else []
    server = grpc.server(shedder.pool, interceptors=[shedder, shedder.slots], handlers=[handler], options=options)
    port.value = server.add_insecure_port("127.0.0.1:0")
    server.start()
    stop.wait()
    server.stop(None)


MAIN = ("RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "OK")


@dataclass
class Result:
    codes: Counter[str] = field(default_factory=Counter)
    shed_s: list[float] = field(default_factory=list)
    detailed: int = 0  # shed calls that carried RetryInfo (shed by shared.shedding, not by C-core)


async def _storm(address: str, callers: int, rounds: int, result: Result, quiet_first: bool) -> None:
    """Keeps every worker busy, then sends `callers` calls at once, `rounds` times; with `quiet_first`, a few
    calls alone instead of the busy ones before each burst (their outcomes are not counted)."""
    channels = [grpc.aio.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range(8)]

    async def call(i: int) -> None:
        start = time.perf_counter()
        try:
            await channels[i % len(channels)].unary_unary(METHOD)(b"", timeout=DEADLINE_S)
        except grpc.aio.AioRpcError as err:
            result.codes[err.code().name] += 1
            if err.code() is grpc.StatusCode.RESOURCE_EXHAUSTED:
                result.shed_s.append(time.perf_counter() - start)
                result.detailed += any(key == "grpc-status-details-bin" for key, _ in err.trailing_metadata() or ())
        else:
            result.codes["OK"] += 1

    try:
        for _ in range(rounds):
            if quiet_first:
                served = 0
                while served < QUIET_CALLS:  # after what the last burst left running has finished
                    try:
                        await channels[0].unary_unary(METHOD)(b"", timeout=10 * DEADLINE_S)
                        served += 1
                    except grpc.aio.AioRpcError:
                        await asyncio.sleep(0.2)
                await asyncio.gather(*(call(i) for i in range(callers)))
                await asyncio.sleep(2 * DEADLINE_S)  # what was admitted has finished
                continue
            busy = [asyncio.ensure_future(call(i)) for i in range(WORKERS)]
            await asyncio.sleep(0.1)  # the workers have taken them
            await asyncio.gather(*(call(i) for i in range(callers)))
            await asyncio.gather(*busy)
    finally:
        for channel in channels:
            await channel.close()


def measure(variant: Variant, spins: int, callers: int, rounds: int, result: Result) -> None:
    port, stop = multiprocessing.Value("i", 0), multiprocessing.Event()
    child = multiprocessing.Process(target=_serve, args=(variant, spins, port, stop), daemon=True)
    child.start()
    try:
        while not port.value:
            time.sleep(0.01)
        asyncio.run(_storm(f"127.0.0.1:{port.value}", callers, rounds, result, quiet_first=bool(variant.queue)))
    finally:
        stop.set()
        child.join(5)


def _p(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100)[q - 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--callers", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--variants", default=",".join(v.name for v in VARIANTS))
    args = parser.parse_args(argv)
    chosen = [v for v in VARIANTS if v.name in args.variants.split(",")]
    results = {v.name: Result() for v in chosen}
    spins = max(_spins_per_burst() for _ in range(5))  # measured once: every variant's calls do the same work
    for variant in chosen + chosen[::-1]:  # side by side: drift weighs on every variant alike
        measure(variant, spins, args.callers, args.rounds, results[variant.name])
    load = os.getloadavg()
    print(f"{WORKERS} workers, {BURST_S / (BURST_S + WAIT_S):.0%} of each call in Python, {args.callers} callers x "
          f"{args.rounds} rounds x 2, deadline {DEADLINE_S:.1f} s, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"{'variant':<8}{'shed':>6}{'detailed':>9}{'expired':>8}{'served':>7}{'other':>6}"
          f"{'shed p50/dl':>12}{'p95/dl':>8}{'expired/shed':>13}")
    for name, r in results.items():
        shed, late, ok = r.codes["RESOURCE_EXHAUSTED"], r.codes["DEADLINE_EXCEEDED"], r.codes["OK"]
        other = sum(r.codes.values()) - shed - late - ok
        print(f"{name:<8}{shed:>6}{r.detailed:>9}{late:>8}{ok:>7}{other:>6}"
              f"{_p(r.shed_s, 50) / DEADLINE_S:>12.3f}{_p(r.shed_s, 95) / DEADLINE_S:>8.3f}"
              f"{late / max(shed, 1):>13.2f}  {', '.join(f'{c} {n}' for c, n in r.codes.items() if c not in MAIN)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
