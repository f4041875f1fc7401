"""Database telemetry: every SQL statement timed per (shard, role) and, in a sampled call, a span with the
statement's text (placeholders only, never the values); MongoDB commands the same through pymongo's command
listener. The pools create their connections as `ObservedConnection`s, so every cursor is observed."""
from __future__ import annotations

import threading
import time
from typing import Any

import psycopg2.extensions
from opentelemetry.trace import Span, SpanKind
from pymongo import monitoring

from shared.telemetry import tracing
from shared.telemetry.metrics import MONGO_SECONDS, QUERY_SECONDS


class ObservedConnection(psycopg2.extensions.connection):
    """A connection that knows its shard and role, and whose cursors are observed."""

    shard = ""
    role = ""
    query_seconds: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cursor_factory = ObservedCursor

    def observe(self, shard: str, role: str) -> None:
        self.shard, self.role = shard, role
        self.query_seconds = QUERY_SECONDS.labels(shard, role)


def _statement(query: Any) -> str:
    return query if isinstance(query, str) else query.decode() if isinstance(query, bytes) else str(query)


class ObservedCursor(psycopg2.extensions.cursor):
    def execute(self, query: Any, vars: Any = None) -> None:  # noqa: A002 (psycopg2's own name)
        conn = self.connection
        histogram = getattr(conn, "query_seconds", None)
        begin = time.perf_counter()
        try:
            if tracing.recording():
                text = _statement(query)
                with tracing.tracer.start_as_current_span(
                        text.split(None, 1)[0].upper() if text.strip() else "SQL", kind=SpanKind.CLIENT,
                        attributes={"db.system": "postgresql", "db.statement": text,
                                    "elearn.shard": getattr(conn, "shard", ""),
                                    "elearn.role": getattr(conn, "role", "")}):
                    super().execute(query, vars)
            else:
                super().execute(query, vars)
        finally:
            if histogram is not None:
                histogram.observe(time.perf_counter() - begin)


class MongoListener(monitoring.CommandListener):
    """Times each MongoDB command of one client, per shard (named by its database: `shards` maps database
    names to shard names); a sampled call gets a span per command."""

    def __init__(self, shards: dict[str, str]) -> None:
        self._shards = shards
        self._seconds = {database: MONGO_SECONDS.labels(shard) for database, shard in shards.items()}
        self._spans: dict[tuple[int, Any], Span] = {}
        self._lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not tracing.recording():
            return
        span = tracing.tracer.start_span(event.command_name, kind=SpanKind.CLIENT, attributes={
            "db.system": "mongodb", "db.name": event.database_name, "db.operation": event.command_name,
            "elearn.shard": self._shards.get(event.database_name, "")})
        with self._lock:
            self._spans[(event.request_id, event.connection_id)] = span

    def _ended(self, event: Any) -> None:
        seconds = self._seconds.get(event.database_name)
        if seconds is not None:
            seconds.observe(event.duration_micros / 1e6)
        if self._spans:
            with self._lock:
                span = self._spans.pop((event.request_id, event.connection_id), None)
            if span is not None:
                span.end()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._ended(event)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._ended(event)
