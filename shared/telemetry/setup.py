"""Start a process's telemetry from its settings: the metrics endpoint, the tracer, the pipeline step."""
from __future__ import annotations

import logging

from shared.settings import Settings
from shared.telemetry import metrics, tracing
from shared.telemetry.access_log import AccessLog
from shared.telemetry.step import TelemetryStep

log = logging.getLogger(__name__)


def step(settings: Settings) -> TelemetryStep | None:
    """The pipeline's telemetry step, or None when telemetry is switched off (ELEARN_TELEMETRY=off)."""
    if not settings.telemetry:
        return None
    return TelemetryStep(AccessLog(settings.access_log_sample, settings.access_log_max_per_s))


def start(settings: Settings) -> None:
    """Once per process, before its server starts."""
    if not settings.telemetry:
        return
    tracing.configure(settings.process, sample_ratio=settings.trace_sample_ratio, trace_dir=settings.trace_dir)
    if settings.metrics_listen:
        try:
            metrics.serve(settings.metrics_listen)
        except OSError as exc:
            # A second instance on the same topology (a test's extra server, a replacement still starting)
            # must serve its calls all the same; it needs an ELEARN_METRICS_LISTEN of its own to be scraped.
            log.warning("metrics endpoint not served: its address is in use", extra={
                "address": settings.metrics_listen, "error": exc.strerror or str(exc)})


def stop() -> None:
    """At a graceful stop: the spans still buffered go out."""
    tracing.shutdown()
