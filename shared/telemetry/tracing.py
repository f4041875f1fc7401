"""OpenTelemetry traces: the process's tracer, W3C traceparent in and out of gRPC metadata, and the exporter
(OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, else a JSON-lines file of spans in the data folder).

Sampling is decided once, at the root (the first process a call reaches, usually the gateway), at
`trace_sample_ratio`; every process after it follows the caller's decision carried in traceparent, so a
trace is whole or absent. A caller that sends a sampled traceparent gets its call traced at any ratio.
"""
from __future__ import annotations

import contextlib
import logging
import os
import pathlib
import random
import threading
from collections.abc import Iterator, Mapping, Sequence

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger(__name__)

PROPAGATED = ("traceparent", "tracestate")
_PROPAGATOR = TraceContextTextMapPropagator()
tracer = trace.get_tracer("elearn")
_configured = threading.Lock()
_sample_ratio = 0.0  # of calls that start a trace here; 0 until configure() installs an exporter


class JsonLinesExporter(SpanExporter):
    """Each finished span as one JSON line (OpenTelemetry's own span JSON), appended to `path`."""

    def __init__(self, path: pathlib.Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = "".join(span.to_json(indent=None) + "\n" for span in spans)
        with self._lock:
            self._file.write(lines)
            self._file.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            self._file.close()


def _exporter(process: str, trace_dir: str, env: Mapping[str, str]) -> SpanExporter | None:
    if env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        # Imported here: the OTLP exporter is only needed, and only loaded, where a collector is configured.
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        return OTLPSpanExporter()  # reads the endpoint, headers and TLS options from OTEL_EXPORTER_OTLP_*
    if trace_dir:
        return JsonLinesExporter(pathlib.Path(trace_dir) / f"{process}.jsonl")
    return None


def configure(process: str, *, sample_ratio: float, trace_dir: str,
              env: Mapping[str, str] | None = None) -> TracerProvider | None:
    """Install this process's tracer provider (once per process); None when spans go nowhere."""
    env = os.environ if env is None else env
    exporter = _exporter(process, trace_dir, env)
    if exporter is None or not _configured.acquire(blocking=False):
        return None
    global _sample_ratio
    _sample_ratio = sample_ratio
    provider = TracerProvider(resource=Resource.create({"service.name": f"elearn-{process}"}),
                              sampler=ParentBased(TraceIdRatioBased(sample_ratio)))
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
    trace.set_tracer_provider(provider)
    log.info("tracing", extra={"sample_ratio": sample_ratio,
                               "exporter": "otlp" if env.get("OTEL_EXPORTER_OTLP_ENDPOINT") else "file"})
    return provider


def shutdown() -> None:
    """Flush the spans still buffered (at a graceful stop)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()


def incoming(metadata: Sequence[tuple[str, str | bytes]] | None) -> Context | None:
    """The caller's trace context from its gRPC metadata, or None when it sent none."""
    carrier = {k: v for k, v in metadata or () if k in PROPAGATED and isinstance(v, str)}
    return _PROPAGATOR.extract(carrier) if carrier else None


def outgoing() -> tuple[tuple[str, str], ...]:
    """traceparent (and tracestate) for a call made now, within the current span; empty outside a trace."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return ()
    if not context.trace_flags.sampled:  # the common case, formatted here: the propagator costs far more
        return (("traceparent", f"00-{context.trace_id:032x}-{context.span_id:016x}-00"),)
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return tuple(carrier.items())


def trace_id(span: Span) -> str:
    context = span.get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""


def _caller(metadata: Sequence[tuple[str, str | bytes]] | None) -> tuple[int, bool] | None:
    """The caller's trace ID and whether it sampled the call, from a well-formed traceparent; else None."""
    for key, value in metadata or ():
        if key == "traceparent" and isinstance(value, str):
            parts = value.split("-")
            if len(parts) >= 4 and len(parts[1]) == 32 and len(parts[3]) == 2:
                try:
                    trace_id, flags = int(parts[1], 16), int(parts[3], 16)
                except ValueError:
                    return None
                return (trace_id, bool(flags & 1)) if trace_id else None
    return None


@contextlib.contextmanager
def server_span(name: str, metadata: Sequence[tuple[str, str | bytes]] | None) -> Iterator[Span]:
    """The call's span. A sampled call gets a real one; the others (99 % at the default ratio) only carry the
    trace ID on, in a span that records nothing and costs a few microseconds instead of the SDK's tens."""
    caller = _caller(metadata)
    sampled = caller[1] if caller else _sample_ratio > 0 and random.random() < _sample_ratio
    if sampled:
        with tracer.start_as_current_span(name, context=incoming(metadata), kind=SpanKind.SERVER,
                                          record_exception=False, set_status_on_exception=False) as span:
            yield span
        return
    span = NonRecordingSpan(SpanContext(caller[0] if caller else random.getrandbits(128), random.getrandbits(64),
                                        is_remote=False, trace_flags=TraceFlags(TraceFlags.DEFAULT)))
    token = context_api.attach(trace.set_span_in_context(span))
    try:
        yield span
    finally:
        context_api.detach(token)


def client_span(name: str) -> contextlib.AbstractContextManager[Span]:
    """A span around an outgoing call, in a sampled call only (elsewhere the caller's span is passed on)."""
    if not recording():
        return contextlib.nullcontext(trace.get_current_span())
    return tracer.start_as_current_span(name, kind=SpanKind.CLIENT, record_exception=False,
                                        set_status_on_exception=False)


def recording() -> bool:
    """Whether the current call is sampled (spans below it are worth their cost)."""
    return trace.get_current_span().is_recording()
