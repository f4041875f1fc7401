"""Calls from one service to another through the generated stubs: one channel per target, a deadline on
every call, and the callee's failure translated into a domain error of the caller."""
from __future__ import annotations

import logging
import pathlib
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import grpc
from google.protobuf.message import Message

from shared import balancing, cpu_slots, deadlines
from shared.auth.client import with_token
from shared.auth.tokens import ServiceToken
from shared.channels import open_channel
from shared.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from shared.settings import Settings
from shared.telemetry.client import calls as client_calls

log = logging.getLogger(__name__)

# Metadata of an inter-service read a decision depends on: served by the callee's primary, never a lagging replica.
STRONG_READ = (("x-consistency", "strong"),)

Reply = TypeVar("Reply")
Stub = TypeVar("Stub")

CHANNEL_OPTIONS = balancing.CHANNEL_OPTIONS  # round_robin over a service's instances, dead ones dropped


def _method_name(method: object) -> str:
    """The full name of a multicallable's method: bytes on a plain channel's, text on an intercepted one's."""
    name = getattr(method, "_method", "/unknown/unknown")
    return name.decode() if isinstance(name, bytes) else str(name)


class ServiceClients:
    """Stubs for the other services of the topology, created on first use and shared by all threads."""

    def __init__(self, settings: Settings):
        self._addresses = dict(settings.service_addresses)
        self._tls = settings.tls
        self.timeout_s = settings.call_timeout_s
        self._channels: dict[str, grpc.Channel] = {}
        self._lock = threading.Lock()
        # Calls to other services carry this service's own identity token, never the end user's.
        self._token = ServiceToken(pathlib.Path(settings.auth_dir), settings.process) if settings.auth_dir else None

    def channel(self, service: str) -> grpc.Channel:
        with self._lock:
            if service not in self._channels:
                self._channels[service] = with_token(
                    open_channel(self._addresses[service], self._tls, CHANNEL_OPTIONS), self._token)
            return self._channels[service]

    def stub(self, service: str, stub_class: Callable[[grpc.Channel], Stub]) -> Stub:
        return stub_class(self.channel(service))

    def call(self, service: str, method: Callable[..., Reply], request: Message, *, what: str, key: object = "",
             metadata: tuple[tuple[str, str], ...] = ()) -> Reply:
        """`method(request)` with the configured deadline; errors become domain errors about `what`.

        NOT_FOUND stays NOT_FOUND (the caller may turn it into FAILED_PRECONDITION); INVALID_ARGUMENT and
        FAILED_PRECONDITION keep their code with the callee's message; anything else (down, deadline
        exceeded, internal) is UNAVAILABLE naming the service, since the caller cannot check `what` now.
        """
        try:
            return self._read(method, request, metadata, service)
        except grpc.RpcError as exc:
            code, details = exc.code(), exc.details() or ""
            if code == grpc.StatusCode.NOT_FOUND:
                raise NotFound(what, key, message=details or None) from None
            if code == grpc.StatusCode.INVALID_ARGUMENT:
                raise InvalidArgument(what, details) from None
            if code == grpc.StatusCode.FAILED_PRECONDITION:
                raise FailedPrecondition(f"{what}: {details}") from None
            # The callee's text of a transport failure names addresses: the log gets it, the caller does not.
            log.warning("inter-service call failed", extra={"service": service, "code": code.name,
                                                            "detail": details})
            raise Unavailable(f"cannot check {what}: the {service} service answered {code.name}",
                              reason="DEPENDENCY_UNAVAILABLE",
                              metadata={"service": service, "code": code.name}) from None

    def _read(self, method: Callable[..., Reply], request: Message, metadata: tuple[tuple[str, str], ...],
              service: str = "") -> Reply:
        """Every call between services is a read, so one UNAVAILABLE (a callee's pooled connection to a
        restarted database node, say) is retried once within the deadline: the configured one, or less when
        the caller of this service has less time left (`deadlines.budget`), so a retry never outlives it.
        wait_for_ready gives a callee that is restarting the deadline to come back instead of failing during
        the reconnect backoff."""
        timeout_s = deadlines.budget(self.timeout_s)
        deadline = time.monotonic() + timeout_s
        observed = client_calls(_method_name(method), service)
        # The worker waits on the other service: its slot lets another run Python meanwhile.
        with cpu_slots.released():
            try:
                with observed.attempt() as trace_context:
                    return method(request, timeout=timeout_s, metadata=(*metadata, *trace_context),
                                  wait_for_ready=True)
            except grpc.RpcError as exc:
                remaining = deadline - time.monotonic()
                if exc.code() != grpc.StatusCode.UNAVAILABLE or remaining < 0.1:
                    raise
                with observed.attempt() as trace_context:
                    return method(request, timeout=remaining, metadata=(*metadata, *trace_context),
                                  wait_for_ready=True)

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
