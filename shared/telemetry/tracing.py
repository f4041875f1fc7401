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
import threading
from typing import Iterator, Mapping, Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger(__name__)

PROPAGATED = ("traceparent", "tracestate")
_PROPAGATOR = TraceContextTextMapPropagator()
tracer = trace.get_tracer("elearn")
_configured = threading.Lock()


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
    if not trace.get_current_span().get_span_context().is_valid:
        return ()
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return tuple(carrier.items())


def trace_id(span: Span) -> str:
    context = span.get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""


@contextlib.contextmanager
def server_span(name: str, metadata: Sequence[tuple[str, str | bytes]] | None) -> Iterator[Span]:
    with tracer.start_as_current_span(name, context=incoming(metadata), kind=SpanKind.SERVER,
                                      record_exception=False, set_status_on_exception=False) as span:
        yield span


def client_span(name: str) -> contextlib.AbstractContextManager[Span]:
    return tracer.start_as_current_span(name, kind=SpanKind.CLIENT, record_exception=False,
                                        set_status_on_exception=False)


def recording() -> bool:
    """Whether the current call is sampled (spans below it are worth their cost)."""
    return trace.get_current_span().is_recording()
