"""Load shedding: past a bound on running and queued calls, a call is answered RESOURCE_EXHAUSTED at once.

A server holds at most `max_workers + max_queue` calls, and queues none that would wait, or while the oldest
queued call has waited, `max_queue_wait_ms`; past that a call gets RESOURCE_EXHAUSTED with a retry delay at
once, instead of waiting out its deadline in grpcio's unbounded executor queue. Health checks are never shed
and never queue behind work; reflection is never shed.

Admission can only guess how long a call will wait: at the start of a burst it goes by how long calls took
before the burst, and a burst slows every call down. So a call is also shed when it starts, if it waited for
its worker and its processor slot longer than `max_queue_wait_ms` and than half the time its caller gave it
(its deadline as it arrived): it has done no work yet, and the rejection costs a worker microseconds, so once
the head of the queue is late the rest of it drains at once, each call told to retry instead of waiting out
its deadline behind the calls before it. A caller that gave a call plenty of time still has it served late.

grpcio's sync server picks the handler of a call on its one polling thread, before the call is queued for a
worker, so the bound is checked there, against what the worker pool holds. A rejection is then answered on
that same thread, as grpcio answers its own `maximum_concurrent_rpcs` rejections: it only queues the status
for sending and never blocks, and a hop to another thread would wait for the interpreter lock behind every
busy worker, which under overload is most of a shed call's time. Health checks run on a small pool of their
own (grpcio's per-behaviour `experimental_thread_pool`; `Watch` streams block), so they never wait behind
admitted work. grpc.server's `maximum_concurrent_rpcs` alone would answer without details (no RetryInfo, no
ErrorInfo) and counts and rejects health checks like any other call.
"""
from __future__ import annotations

import collections
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, cast

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from shared.cpu_slots import SlotStep
from shared.telemetry.step import shed_metric

if TYPE_CHECKING:  # subscriptable in the type stubs only
    Handler = grpc.RpcMethodHandler[Any, Any]

log = logging.getLogger(__name__)
# .queued_at: when the call this worker runs was queued (monotonic), or None; .ran: it reached its handler (not
# shed at its start, nor cancelled while it waited), so its time counts in the run-time estimate
_worker = threading.local()

REASON = "OVERLOADED"
NEVER_SHED = ("/grpc.health.v1.Health/", "/grpc.reflection.")
ON_THE_LANE = ("/grpc.health.v1.Health/",)
# Health checks take well under a millisecond; two threads keep one slow client from holding up the rest.
LANE_WORKERS = 2
JITTER_STEPS = 8  # the retry delays offered: retry_after_ms to twice that, in this many steps, built once
RUN_TIME_WEIGHT = 0.05  # of each call's run time in the moving average (about the last 20 calls)
SAMPLE_CAP = 4.0  # a call counts in the average as at most this many times the average so far
LOG_EVERY_S = 10.0  # shedding is logged at most this often, with the count since the last line


@dataclass(frozen=True)
class ShedLimits:
    """`max_workers` calls run at once and up to `max_queue` more wait, while a new one would wait, and the
    oldest has waited, less than `max_queue_wait_ms` (a count alone would let slow calls queue past their
    callers' deadlines, or turn away a burst of quick ones the workers would serve in time);
    a rejection asks the caller to retry after `retry_after_ms` to twice that (jittered, so the rejected do
    not return together)."""

    max_workers: int
    max_queue: int
    retry_after_ms: int
    max_queue_wait_ms: int = 500
    cpu_slots: int = 0  # workers running Python at once (shared.cpu_slots); 0: no bound

    @property
    def bound(self) -> int:
        return self.max_workers + self.max_queue


def overloaded_status(domain: str, delay_ms: int) -> grpc.Status:
    """RESOURCE_EXHAUSTED with RetryInfo(delay_ms) and ErrorInfo(reason OVERLOADED)."""
    retry, info = any_pb2.Any(), any_pb2.Any()
    retry.Pack(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(
        seconds=delay_ms // 1000, nanos=delay_ms % 1000 * 1_000_000)))
    info.Pack(error_details_pb2.ErrorInfo(reason=REASON, domain=domain,
                                          metadata={"retry_after_ms": str(delay_ms)}))
    return rpc_status.to_status(status_pb2.Status(
        code=code_pb2.RESOURCE_EXHAUSTED, details=[retry, info],
        message=f"too many calls in progress; retry after {delay_ms} ms"))


class CountingPool(futures.ThreadPoolExecutor):
    """The workers of admitted calls; knows how many calls it holds, queued or running, how long the oldest
    queued one has waited, and how long a new one would wait."""

    def __init__(self, max_workers: int, thread_name_prefix: str):
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self.max_workers = max_workers
        self._held = 0
        self._queued: collections.deque[float] = collections.deque()  # submit times, oldest first
        self._mean_run_s = 0.0  # moving average of how long a call holds a worker
        self._lock = threading.Lock()

    @property
    def held(self) -> int:
        return self._held

    def oldest_wait_s(self) -> float:
        """How long the call at the head of the queue has waited (0 when none waits)."""
        if self._held <= self.max_workers:
            return 0.0
        try:
            return time.monotonic() - self._queued[0]
        except IndexError:  # a worker took the last one meanwhile
            return 0.0

    def _release(self, _future: futures.Future[Any] | None = None) -> None:
        with self._lock:
            self._held -= 1

    def expected_wait_s(self) -> float:
        """How long a call queued now would wait, at the recent average time a call holds a worker."""
        return max(0, self._held + 1 - self.max_workers) * self._mean_run_s / self.max_workers

    def _started(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        with self._lock:
            # The queue is FIFO: the task starting now is the oldest one queued.
            _worker.queued_at = self._queued.popleft()
        _worker.ran = False
        start = time.monotonic()
        try:
            return fn(*args, **kwargs)
        finally:
            _worker.queued_at = None
            # Only calls that ran count: one shed at its start, or cancelled while it waited, takes microseconds.
            if _worker.ran:
                run_s = time.monotonic() - start
                if self._mean_run_s:
                    # One sample moves the estimate by at most 15 %: a dozen calls a stalled shard held until
                    # their deadline, ending together, made a 5 ms estimate 1.4 s and shed every shard's calls
                    # for a moment; a burst that truly slows every call still lifts it 87-fold in 32 calls.
                    run_s = min(run_s, SAMPLE_CAP * self._mean_run_s)
                    self._mean_run_s += RUN_TIME_WEIGHT * (run_s - self._mean_run_s)
                else:
                    self._mean_run_s = run_s  # the first call sets the estimate

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> futures.Future[Any]:
        with self._lock:
            self._held += 1
            self._queued.append(time.monotonic())
        try:
            future = super().submit(self._started, fn, args, kwargs)
        except BaseException:
            with self._lock:
                self._queued.pop()
            self._release()
            raise
        # Counted per task, not per handler call: a call cancelled while queued never reaches its handler.
        future.add_done_callback(self._release)
        return future


class InlineExecutor(futures.ThreadPoolExecutor):
    """Runs each task at once on the thread that submits it (grpcio's polling thread) and never starts a thread
    of its own; only for behaviours that never block. A ThreadPoolExecutor because grpcio takes a behaviour's
    `experimental_thread_pool` only if it is one."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> futures.Future[Any]:
        future: futures.Future[Any] = futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the future, as a pool would
            future.set_exception(exc)
        return future


def _on_pool(handler: Handler, pool: futures.ThreadPoolExecutor) -> Handler:
    """`handler`, its behaviour run by `pool` instead of the server's workers."""
    for kind in ("unary_unary", "unary_stream", "stream_unary", "stream_stream"):
        behavior = getattr(handler, kind)
        if behavior is not None:
            def moved(*args: Any, **kwargs: Any) -> Any:
                return behavior(*args, **kwargs)

            # grpc's experimental per-handler thread pool: read from the function's attributes.
            setattr(moved, "experimental_thread_pool", pool)  # noqa: B010
            setattr(moved, "experimental_non_blocking", getattr(behavior, "experimental_non_blocking", False))  # noqa: B010
            replaced: Handler = cast(Any, handler)._replace(**{kind: moved})  # a namedtuple in grpc
            return replaced
    return handler


class Shedder(grpc.ServerInterceptor):
    """The shedding step of the server pipeline; `pool` is the thread pool the server must be built with."""

    def __init__(self, limits: ShedLimits, domain: str, name: str):
        self.limits = limits
        self.domain = domain
        self.pool = CountingPool(limits.max_workers, thread_name_prefix=name)
        # The step after this one: an admitted call takes a slot to run Python (shared.cpu_slots).
        # Unbounded (a slot per worker) when cpu_slots is 0: the step still sheds the calls that start late.
        self.slots = SlotStep(limits.cpu_slots or limits.max_workers, self, never=NEVER_SHED)
        self._late_s = limits.max_queue_wait_ms / 1000
        self._count_lock = threading.Lock()
        self.lane = futures.ThreadPoolExecutor(LANE_WORKERS, thread_name_prefix=f"{name}-lane")
        self.shed_total = 0
        self._unlogged = 0
        self._logged_at = 0.0
        self._moved: dict[str, Handler] = {}
        self._sheddable: dict[str, bool] = {}  # method -> may be shed (unary, not health or reflection)
        self._statuses = [overloaded_status(domain, round(limits.retry_after_ms * (1 + step / JITTER_STEPS)))
                          for step in range(JITTER_STEPS + 1)]
        self._reject = _on_pool(grpc.stream_unary_rpc_method_handler(self._rejection), InlineExecutor())

    def intercept_service(self, continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
                          handler_call_details: grpc.HandlerCallDetails) -> Handler | None:
        method = handler_call_details.method
        # A method known to be sheddable is shed before the rest of the pipeline wraps its handler: under
        # overload most calls are shed, and each wrapper is work on the one polling thread.
        if self._sheddable.get(method) and not self._admits():
            return self._shed(method)
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        if method.startswith(ON_THE_LANE):
            return self._on_lane(method, handler)
        # Only unary calls are shed, as every call of the public API is; a stream passes.
        sheddable = self._sheddable[method] = not method.startswith(NEVER_SHED) and handler.unary_unary is not None
        if not sheddable or self._admits():
            return handler
        return self._shed(method)

    def _admits(self) -> bool:
        held = self.pool.held
        if held < self.limits.max_workers:
            return True
        limit_s = self.limits.max_queue_wait_ms / 1000
        # Expected wait: a burst is cut at what the workers can serve in time. Oldest wait: workers that stall
        # (a database that stops answering) are noticed before the average says so.
        return (held < self.limits.bound and self.pool.expected_wait_s() < limit_s
                and self.pool.oldest_wait_s() < limit_s)

    def _on_lane(self, method: str, handler: Handler) -> Handler:
        moved = self._moved.get(method)
        if moved is None:
            moved = self._moved.setdefault(method, _on_pool(handler, self.lane))
        return moved

    def _shed(self, method: str) -> Handler:
        self._count(method)
        return self._reject

    def wait_left_s(self, context: grpc.ServicerContext) -> float | None:
        """How long the call this worker runs may still wait before it starts (shared.cpu_slots.StartBudget):
        until it has waited `max_queue_wait_ms`, or half the time its caller gave it, whichever is later (a
        caller that allows 10 s is better served late than told to retry; one that allows 2 s is not)."""
        queued_at: float | None = getattr(_worker, "queued_at", None)
        if queued_at is None:
            return None
        _worker.ran = True  # unless refused
        now = time.monotonic()
        given_s = now - queued_at + context.time_remaining()  # the deadline's distance when the call arrived
        return queued_at + max(self._late_s, given_s / 2) - now

    def refuse(self, method: str, context: grpc.ServicerContext) -> NoReturn:
        """Shed a call that could not start in time, on its worker (shared.cpu_slots.StartBudget)."""
        self._count(method)
        _worker.ran = False
        context.abort_with_status(random.choice(self._statuses))
        raise AssertionError("abort_with_status returned")  # it always raises

    def _count(self, method: str) -> None:
        shed_metric(method).inc()
        with self._count_lock:  # the polling thread sheds at admission, workers at the start of a late call
            self.shed_total += 1
            self._unlogged += 1
            now = time.monotonic()
            if now - self._logged_at < LOG_EVERY_S:
                return
            shed, self._unlogged, self._logged_at = self._unlogged, 0, now
        log.warning("shedding load", extra={"method": method, "shed": shed, "shed_total": self.shed_total,
                                            "bound": self.limits.bound})

    def _rejection(self, _requests: Iterator[Any], context: grpc.ServicerContext) -> None:
        # A stream handler, so the request is never read: a rejection costs the server as little as it can. It
        # runs on the polling thread, so it must not block: abort only queues the status for sending.
        context.abort_with_status(random.choice(self._statuses))
