"""The gateway's connections to its backends, and the watcher that turns their health into the gateway's.

Channels reconnect quickly (100 ms to 1 s backoff) so a backend that comes back is used again at once.
"""
from __future__ import annotations

import logging
import threading
from typing import Mapping

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from shared.channels import open_channel
from shared.settings import TlsSettings

log = logging.getLogger(__name__)

CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.enable_retries", 0),  # the gateway decides what to retry
]
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class Backends:
    """One channel per backend address, and a cached callable per (address, method)."""

    def __init__(self, tls: TlsSettings | None = None):
        self._tls = tls  # the gateway's own certificate: services accept only clients signed by the CA
        self._channels: dict[str, grpc.Channel] = {}
        self._callables: dict[tuple[str, str], grpc.UnaryUnaryMultiCallable] = {}
        self._lock = threading.Lock()

    def channel(self, address: str) -> grpc.Channel:
        channel = self._channels.get(address)
        if channel is None:
            with self._lock:
                channel = self._channels.setdefault(address, open_channel(address, self._tls, CHANNEL_OPTIONS))
        return channel

    def callable(self, address: str, method: str) -> grpc.UnaryUnaryMultiCallable:
        key = (address, method)
        call = self._callables.get(key)
        if call is None:
            call = self._callables.setdefault(key, self.channel(address).unary_unary(method))
        return call

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()


class HealthWatcher:
    """Every `interval_s`, asks each backend for its health and reports each public service SERVING
    only while every backend configured for it answers SERVING."""

    def __init__(self, backends: Backends, services: Mapping[str, set[str]], interval_s: float = 1.0,
                 timeout_s: float = 0.5):
        self.backends = backends
        self.services = services  # full service name → backend addresses
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._stop = threading.Event()
        self._health: health.HealthServicer | None = None
        self._thread = threading.Thread(target=self._run, name="backend-health", daemon=True)

    def start(self, health_servicer: health.HealthServicer) -> None:
        self._health = health_servicer
        self.check_once()
        self._thread.start()

    def _backend_serving(self, address: str, service: str) -> bool:
        stub = health_pb2_grpc.HealthStub(self.backends.channel(address))
        try:
            # wait_for_ready: a backend whose channel is between reconnect attempts gets the timeout to
            # answer, so a restart does not read as an outage for a whole check interval.
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=self.timeout_s,
                               wait_for_ready=True)
        except grpc.RpcError:
            return False
        return reply.status == SERVING

    def check_once(self) -> dict[str, bool]:
        states = {name: all(self._backend_serving(a, name) for a in addresses)
                  for name, addresses in self.services.items()}
        if self._health is not None and not self._stop.is_set():
            for name, up in states.items():
                self._health.set(name, SERVING if up else NOT_SERVING)
        return states

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.check_once()
            except Exception:  # the watcher must outlive any one bad check
                log.exception("backend health check failed")

    def stop(self) -> None:
        self._stop.set()
