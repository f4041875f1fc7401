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
from typing import Any

import grpc

from shared.interceptors import Behavior, UnaryWrapInterceptor

_local = threading.local()  # .slots: the CpuSlots whose slot this thread holds, if any


class CpuSlots:
    """At most `slots` threads inside `held()` at once, minus those inside `released()`."""

    def __init__(self, slots: int):
        self.slots = slots
        self._free = threading.Semaphore(slots)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Run the block holding a slot (a worker's whole call)."""
        self._free.acquire()
        _local.slots = self
        try:
            yield
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


class SlotStep(UnaryWrapInterceptor):
    """The pipeline step that runs each unary call's handler holding a slot of `slots`; calls to methods
    starting with one of `never` (health checks) take none. The slot is taken inside the behaviour, after
    grpcio has read the request, so a client slow to send its request holds a worker but never a slot."""

    def __init__(self, slots: int, never: tuple[str, ...] = ()):
        super().__init__()
        self.slots = CpuSlots(slots)
        self._never = never

    def intercept_service(self, continuation: Any, handler_call_details: grpc.HandlerCallDetails) -> Any:
        if handler_call_details.method.startswith(self._never):
            return continuation(handler_call_details)
        return super().intercept_service(continuation, handler_call_details)

    def wrap(self, behavior: Behavior, method: str) -> Behavior:
        def holding(request: Any, context: grpc.ServicerContext) -> Any:
            with self.slots.held():
                return behavior(request, context)

        return holding
