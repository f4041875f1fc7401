"""The gateway's connections to its backends, and the watcher that turns their health into the gateway's.

A backend is a gRPC target: one address, or several instances balanced round_robin (`shared.balancing`);
channels reconnect quickly (100 to 300 ms backoff) so a backend that comes back is used again at once.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.readiness import Readiness
from shared import balancing
from shared.channels import open_channel
from shared.health_loop import SERVING, HealthLoop
from shared.settings import TlsSettings

CHANNEL_OPTIONS = [
    *balancing.CHANNEL_OPTIONS,  # round_robin over a backend's instances, dead ones dropped
    ("grpc.enable_retries", 0),  # the gateway decides what to retry
]


class Backends:
    """One channel per backend address, and a cached callable per (address, method)."""

    def __init__(self, tls: TlsSettings | None = None) -> None:
        self._tls = tls  # the gateway's own certificate: services accept only clients signed by the CA
        self._channels: dict[str, grpc.Channel] = {}
        self._callables: dict[tuple[str, str], grpc.UnaryUnaryMultiCallable[bytes, bytes]] = {}
        self._readiness: dict[str, Readiness] = {}
        self._lock = threading.Lock()

    def channel(self, address: str) -> grpc.Channel:
        channel = self._channels.get(address)
        if channel is None:
            with self._lock:
                channel = self._channels.setdefault(address, open_channel(address, self._tls, CHANNEL_OPTIONS))
        return channel

    def ready(self, address: str) -> bool:
        """Whether the backend's channel is READY now (False before its first `wait_ready`)."""
        readiness = self._readiness.get(address)
        return readiness is not None and readiness.ready()

    def wait_ready(self, address: str, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the backend's channel to be READY (at once when it is): the first call
        after a backend restarts then goes out when the channel reconnects, not during its backoff."""
        readiness = self._readiness.get(address)
        if readiness is None:
            channel = self.channel(address)
            with self._lock:
                readiness = self._readiness.setdefault(address, Readiness(channel))
        return readiness.wait(timeout_s)

    def callable(self, address: str, method: str) -> grpc.UnaryUnaryMultiCallable[bytes, bytes]:
        key = (address, method)
        call = self._callables.get(key)
        if call is None:
            call = self._callables.setdefault(key, self.channel(address).unary_unary(method))
        return call

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()


class HealthWatcher(HealthLoop):
    """Every `interval_s`, asks each backend for its health and reports each public service SERVING only while
    every backend configured for it is up. A backend that answers NOT_SERVING (it is stopping) is down at once;
    one that does not answer in `timeout_s` is down after `misses_to_down` such checks in a row, so one slow
    answer under a burst of calls does not take the gateway out of its balancer (a dead backend is still down
    within `misses_to_down` x (`interval_s` + `timeout_s`)). A backend never heard from is down."""

    def __init__(self, backends: Backends, services: Mapping[str, set[str]], interval_s: float = 1.0,
                 timeout_s: float = 0.5, misses_to_down: int = 2):
        super().__init__(interval_s, "backend-health")
        self.backends = backends
        self.services = services  # full service name → backend addresses
        self.timeout_s = timeout_s
        self.misses_to_down = misses_to_down
        self._misses: dict[tuple[str, str], int] = {}  # (address, service) → unanswered checks in a row

    def _backend_serving(self, address: str, service: str) -> bool | None:
        """True: SERVING; False: answered anything else; None: no answer in time."""
        stub: Any = health_pb2_grpc.HealthStub(self.backends.channel(address))  # Check: not in the stubs
        try:
            # wait_for_ready: a backend whose channel is between reconnect attempts gets the timeout to
            # answer, so a restart does not read as an outage for a whole check interval.
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=self.timeout_s,
                               wait_for_ready=True)
        except grpc.RpcError:
            return None
        return bool(reply.status == SERVING)

    def _up(self, address: str, service: str) -> bool:
        answer = self._backend_serving(address, service)
        key = (address, service)
        if answer is not None:
            self._misses[key] = 0
            return answer
        misses = self._misses[key] = self._misses.get(key, self.misses_to_down - 1) + 1
        return misses < self.misses_to_down

    def check_once(self) -> dict[str, bool]:
        # Every backend is asked (no short cut), so each one's count of misses stays current.
        states = {name: all([self._up(a, name) for a in addresses]) for name, addresses in self.services.items()}
        for name, up in states.items():
            self.publish(name, up)
        return states
