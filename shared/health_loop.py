"""The loop a periodic health check runs in: a daemon thread that calls the check every `interval_s` and sets
its verdicts on the process's health servicer. Per-shard health (`shared.shard_health`) and the gateway's
view of its backends (`gateway.backends.HealthWatcher`) are such checks."""
from __future__ import annotations

import logging
import threading

from grpc_health.v1 import health, health_pb2

log = logging.getLogger(__name__)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class HealthLoop:
    """Runs `check_once()` at `start` and then every `interval_s` until `stop`; the loop outlives any one bad
    check. A subclass looks and calls `publish` for each health name it judges."""

    def __init__(self, interval_s: float, thread_name: str):
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._health: health.HealthServicer | None = None
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)

    def check_once(self) -> dict[str, bool]:
        raise NotImplementedError

    def publish(self, name: str, serving: bool) -> None:
        """Sets `name` SERVING or NOT_SERVING, once started and until stopped."""
        if self._health is not None and not self._stop.is_set():
            self._health.set(name, SERVING if serving else NOT_SERVING)

    def start(self, health_servicer: health.HealthServicer) -> None:
        self._health = health_servicer
        self.check_once()
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.check_once()
            except Exception:
                log.exception("health check failed", extra={"check": self._thread.name})

    def stop(self) -> None:
        self._stop.set()
