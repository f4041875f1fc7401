"""A bound on the server's workers running Python at once, so the threads that must take the interpreter lock
to let a call in or shed it (grpcio's one polling thread) compete for it with a few threads, not with every
worker.

Every call a server takes in, even one it sheds, needs the interpreter lock on grpcio's polling thread several
times; each time it waits behind every thread that is ready to run Python, a switch interval each. With 32
workers busy between their database round trips, that wait made most excess calls expire before they were
even shed (benchmarks/shed_path.py). A worker therefore holds a slot while it runs a call, and gives it back
while it waits on something other than the processor (`released`: a database, another service), so the
workers ready to run Python are at most the slots, while the others still overlap their waits.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any, NoReturn, Protocol

import grpc

from shared.interceptors import Behavior, UnaryWrapInterceptor

_local = threading.local()  # .slots: the CpuSlots whose slot this thread holds, if any


class CpuSlots:
    """At most `slots` threads inside `held()` at once, minus those inside `released()`."""

    def __init__(self, slots: int):
        self.slots = slots
        self._free = threading.Semaphore(slots)

    @contextlib.contextmanager
    def held(self, timeout_s: float | None = None) -> Iterator[bool]:
        """Run the block holding a slot (a worker's whole call); with `timeout_s`, the block gets False, and
        holds none, when no slot came free in that time."""
        if not self._free.acquire(timeout=timeout_s):
            yield False
            return
        _local.slots = self
        try:
            yield True
        finally:
            _local.slots = None
            self._free.release()


@contextlib.contextmanager
def released() -> Iterator[None]:
    """Give this thread's slot back for the block, a wait on a database or another service; a no-op on a
    thread that holds none (a background task) or inside another `released` block."""
    slots: CpuSlots | None = getattr(_local, "slots", None)
    if slots is None:
        yield
        return
    _local.slots = None
    slots._free.release()  # noqa: SLF001 - one module's two halves
    try:
        yield
    finally:
        slots._free.acquire()  # noqa: SLF001
        _local.slots = slots


class StartBudget(Protocol):
    """When a call may no longer start (the shedding step): how long the call this worker took up may still
    wait for its slot (None: no bound), and how it is refused when it waited longer (ends the call)."""

    def wait_left_s(self, context: grpc.ServicerContext) -> float | None: ...

    def refuse(self, method: str, context: grpc.ServicerContext) -> NoReturn: ...


class SlotStep(UnaryWrapInterceptor):
    """The pipeline step that runs each unary call's handler holding a slot of `slots`; calls to methods
    starting with one of `never` (health checks) take none. The slot is taken inside the behaviour, after
    grpcio has read the request, so a client slow to send its request holds a worker but never a slot. A
    call that cannot start in time (its queue wait spent before or while it waits for a slot) is
    refused by it without running."""

    def __init__(self, slots: int, budget: StartBudget, never: tuple[str, ...] = ()):
        super().__init__()
        self.slots = CpuSlots(slots)
        self._never = never
        self._budget = budget

    def intercept_service(self, continuation: Any, handler_call_details: grpc.HandlerCallDetails) -> Any:
        if handler_call_details.method.startswith(self._never):
            return continuation(handler_call_details)
        return super().intercept_service(continuation, handler_call_details)

    def wrap(self, behavior: Behavior, method: str) -> Behavior:
        budget = self._budget

        def holding_in_time(request: Any, context: grpc.ServicerContext) -> Any:
            wait_s = budget.wait_left_s(context)
            if wait_s is not None and wait_s <= 0:
                budget.refuse(method, context)
            with self.slots.held(wait_s) as got:
                if not got:
                    budget.refuse(method, context)
                return behavior(request, context)

        return holding_in_time
