"""The CPU time the telemetry step adds to one call, in-process (no network, no other process): the server
step's wrapper around a handler that does nothing, with a call's usual metadata and trailers, at the default
settings (1 % traced, access log capped at 100 lines a second), a sampled call (its span exported by the
batch processor's thread, whose CPU counts too) and with every call logged; then the rest of a
call's telemetry budget: the gateway's client-side observation of its call to the backend, and one SQL statement
timed (a call makes a few). CPU time, not wall time, so a loaded machine moves the figures little;
`python -m benchmarks.telemetry_step`."""
from __future__ import annotations

import io
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Sequence

import grpc

from shared import logs
from shared.telemetry import tracing
from shared.telemetry.access_log import AccessLog
from shared.telemetry.client import ClientCall
from shared.telemetry.metrics import QUERY_SECONDS
from shared.telemetry.step import TelemetryStep

METHOD = "/elearning.enrollments.v1.EnrollmentService/RecordLessonProgress"
CALLER = (("authorization", "Bearer " + "x" * 200), ("x-request-id", "bench-0001"),
          ("traceparent", f"00-{'4b' * 16}-{'0f' * 8}-00"))
SAMPLED = CALLER[:2] + (("traceparent", f"00-{'4b' * 16}-{'0f' * 8}-01"),)
TRAILERS = (("x-served-by", "eu:primary"), ("x-min-lsn", "eu:0/16B3748"))


class _Context:
    """What the step reads of a grpc.ServicerContext."""

    def __init__(self, metadata: Sequence[tuple[str, str]]) -> None:
        self._metadata = metadata

    def invocation_metadata(self) -> Sequence[tuple[str, str]]:
        return self._metadata

    def code(self) -> grpc.StatusCode | None:
        return None

    def trailing_metadata(self) -> Sequence[tuple[str, str]]:
        return TRAILERS


def _handler(request: object, context: object) -> object:
    return request


def cpu_us(call: Callable[[], object], number: int) -> float:
    """The least CPU time of one call over five rounds, in microseconds."""
    return min(timeit.repeat(call, number=number, repeat=5, timer=time.process_time)) / number * 1e6


def main() -> int:
    logs.configure("bench", stream=io.StringIO())  # formatted as in a server, written nowhere
    tracing.configure("bench", sample_ratio=0.01, trace_dir=tempfile.mkdtemp(prefix="telemetry-step-"))
    number = 20_000
    context = _Context(CALLER)
    bare = cpu_us(lambda: _handler(1, context), number)
    for label, max_per_s, metadata in (("default (1 % traced, <= 100 log lines/s)", 100, CALLER),
                                       ("a root call (no traceparent)", 100, CALLER[:2]),
                                       ("access log off", 0, CALLER),
                                       ("a sampled call (its span made and exported)", 100, SAMPLED),
                                       ("every call logged", 10 ** 9, CALLER)):
        wrapped = TelemetryStep(AccessLog(1.0, max_per_s)).wrap(_handler, METHOD)
        context = _Context(metadata)
        print(f"{label:<45} {cpu_us(lambda: wrapped(1, context), number) - bare:6.1f} us CPU per call")
    client = ClientCall(METHOD, "127.0.0.1:50063")

    def client_call() -> None:
        with client.attempt():
            pass

    query_seconds = QUERY_SECONDS.labels("eu", "primary")
    print(f"{'client side of a call (gateway to backend)':<45} {cpu_us(client_call, number) - bare:6.1f} us CPU")
    print(f"{'one SQL statement timed':<45} {cpu_us(lambda: query_seconds.observe(0.001), number) - bare:6.1f} us CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
