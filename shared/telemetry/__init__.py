"""Telemetry of every process: Prometheus metrics, OpenTelemetry traces and the access log (one pipeline step)."""
