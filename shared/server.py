"""The server bootstrap every service and the gateway use: health, reflection, the one pipeline every call
goes through (`pipeline`), and a graceful stop on SIGTERM/SIGINT (health goes NOT_SERVING first, then in-flight
calls drain)."""
from __future__ import annotations

import logging
import pathlib
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from shared import deadlines, logs
from shared.auth.revocations import poll_ended_sessions
from shared.auth.step import AuthenticateInterceptor
from shared.auth.tokens import Verifier
from shared.bulkhead import ShardGate
from shared.channels import TlsFileError, add_port
from shared.consistency import ConsistencyInterceptor
from shared.grpc_errors import DomainErrorInterceptor, to_status
from shared.interceptors import Behavior, UnaryWrapInterceptor, folded
from shared.settings import Settings, SettingsError, load_settings
from shared.shard_health import ShardHealth
from shared.shedding import Shedder, ShedLimits
from shared.telemetry import native_logs
from shared.telemetry import setup as telemetry

log = logging.getLogger(__name__)


class DeadlineInterceptor(UnaryWrapInterceptor):
    """Records each unary call's deadline for `shared.deadlines`, so stores can finish (or fail) in time; a call
    whose deadline passed while it waited for a worker does no work (its caller has given up on it)."""

    def wrap(self, behavior: Behavior, method: str) -> Behavior:
        def bounded(request: Any, context: grpc.ServicerContext) -> Any:
            remaining = context.time_remaining()
            if remaining <= 0:
                context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "the deadline passed before the call started")
            with deadlines.within(remaining):
                return behavior(request, context)

        return bounded


@dataclass(frozen=True)
class ServiceBinding:
    """A servicer and how to add it: `full_name` is the proto service name, e.g. elearning.users.v1.UserService."""

    full_name: str
    register: Callable[[grpc.Server], None]


class PortInUse(RuntimeError):
    pass


def verifier(settings: Settings) -> Verifier:
    """The token verifier of this process, refusing the ended sessions it polls (when there are keys)."""
    if not settings.auth_dir:
        return Verifier(None)
    ended = poll_ended_sessions(settings) if settings.revocation_poll_s > 0 else frozenset[str]()
    return Verifier(pathlib.Path(settings.auth_dir), ended=ended)


def pipeline(settings: Settings, shedder: Shedder) -> list[grpc.ServerInterceptor]:
    """What happens to every call, in the order the call meets it."""
    domain = f"elearning.{settings.process}"
    steps: list[grpc.ServerInterceptor | None] = [
        # shed: decided when the call arrives, before it queues for a worker, so it comes first
        shedder,
        # slots: an admitted call runs Python only while it holds one of a few slots (shared.cpu_slots), taken
        # once its request has arrived and given back while it waits on a database or another service
        shedder.slots,
        # deadline: the caller's deadline, recorded for the stores
        DeadlineInterceptor(),
        # telemetry: gRPC metrics, the server span (joined to the caller's traceparent) and the access log line;
        # before authenticate, so calls refused for their token are counted and logged too
        telemetry.step(settings),
        # authenticate: the token verified, the method's rule applied, the caller set for the service
        AuthenticateInterceptor(verifier(settings), domain),
        # consistency: the caller's x-consistency / x-min-lsn in, the session token out (the gateway passes
        # that metadata through untouched)
        None if settings.process == "gateway" else ConsistencyInterceptor(
            error_status=lambda exc: to_status(exc, domain), shards=settings.shard_map.names),
        # handler, then map errors: domain errors to statuses with rich details, anything else INTERNAL
        DomainErrorInterceptor(domain=domain),
    ]
    return [step for step in steps if step is not None]


def create_server(settings: Settings, address: str, bindings: Iterable[ServiceBinding], *,
                  handlers: Iterable[grpc.GenericRpcHandler] = (), reflection_names: Iterable[str] = (),
                  serving: bool = True) -> tuple[grpc.Server, int, health.HealthServicer]:
    """Build a started server on `address` ("host:0" picks a free port); returns it, its port and its health,
    which says SERVING for the server and its services at once, or, with `serving` False, once the caller
    calls `announce_serving` (when the rest of the process has started too)."""
    bindings = list(bindings)
    # Every call taken in, even one shed, needs the interpreter lock on grpcio's one polling thread: a short
    # switch interval and few workers running Python at once (cpu_slots) let it have the lock soon.
    sys.setswitchinterval(settings.switch_interval_ms / 1000)
    limits = ShedLimits(settings.max_workers, settings.max_queue, settings.shed_retry_ms, settings.max_queue_wait_ms,
                        cpu_slots=settings.cpu_slots)
    shedder = Shedder(limits, domain=f"elearning.{settings.process}", name=settings.process)
    server = grpc.server(
        shedder.pool,  # admitted calls only: rejections and health checks run on the shedder's own lane
        # The steps as declared, the plain ones folded into one interceptor (the same order, fewer hops per call).
        interceptors=folded(pipeline(settings, shedder)),
        handlers=list(handlers),
        options=[("grpc.so_reuseport", 0)],
    )
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for binding in bindings:
        binding.register(server)
    names = [b.full_name for b in bindings] + list(reflection_names)
    reflection.enable_server_reflection(
        [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME], server)
    try:
        # The gateway's public port takes any client; a service only one with a certificate of the CA.
        port = add_port(server, address, settings.tls, require_client_cert=settings.process != "gateway")
    except RuntimeError as exc:
        raise PortInUse(f"cannot listen on {address}: the port is in use or the address is invalid") from exc
    if port == 0:
        raise PortInUse(f"cannot listen on {address}: the port is in use or the address is invalid")
    if not serving:  # grpcio's servicer says SERVING for the server as a whole ("") from the start
        health_servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    server.start()
    if serving:
        announce_serving(health_servicer, names)
    log.info("serving", extra={"address": address, "port": port, "services": names,
                               "tls": "off" if settings.tls is None else "on"})
    return server, port, health_servicer


def announce_serving(health_servicer: health.HealthServicer, names: Iterable[str]) -> None:
    """SERVING for the server as a whole ("") and for each of `names`."""
    for name in ["", *names]:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)


def stop_gracefully(server: grpc.Server, health_servicer: health.HealthServicer, settings: Settings) -> None:
    """NOT_SERVING first so balancers and probes move away, then drain in-flight calls and stop."""
    health_servicer.enter_graceful_shutdown()
    log.info("shutting down", extra={"drain_s": settings.drain_s, "grace_s": settings.grace_s})
    threading.Event().wait(settings.drain_s)
    server.stop(settings.grace_s).wait()


def stop_signals() -> threading.Event:
    """An event SIGTERM and SIGINT set from now on, instead of ending the process at once: installed before the
    server starts, so a signal that comes as soon as health says SERVING still gets the graceful stop."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def serve_until_signalled(server: grpc.Server, health_servicer: health.HealthServicer, settings: Settings,
                          stop: threading.Event, on_stop: Callable[[], None] = lambda: None) -> None:
    """Block until `stop` is set (`stop_signals`), then stop gracefully and run `on_stop` (close pools)."""
    stop.wait()
    stop_gracefully(server, health_servicer, settings)
    on_stop()
    log.info("stopped")


@dataclass
class ProcessParts:
    """What a process serves, built from its settings by its main module."""

    bindings: list[ServiceBinding] = field(default_factory=list)
    handlers: list[grpc.GenericRpcHandler] = field(default_factory=list)
    reflection_names: list[str] = field(default_factory=list)
    on_start: Callable[[health.HealthServicer], None] = lambda _health: None
    on_stop: Callable[[], None] = lambda: None
    # Each shard's bulkhead, reported as `<service>/shard/<shard>` health (shared.shard_health).
    shard_gates: Mapping[str, ShardGate] = field(default_factory=dict)


def run_process(process: str, build: Callable[[Settings], ProcessParts]) -> int:
    """The whole life of a server process: settings, logs, build, serve until signalled. Returns the exit code."""
    try:
        settings = load_settings(process)
    except SettingsError as exc:
        print(f"{process}: bad settings: {exc}", file=sys.stderr)
        return 2
    logs.configure(process, settings.log_level, stream=native_logs.capture())
    telemetry.start(settings)
    signalled = stop_signals()
    parts = build(settings)
    try:
        # Health says SERVING only once everything below has started: a SIGTERM handled while the process was
        # still starting (its signal handler waits for the main thread) found health SERVING for seconds.
        server, _port, health_servicer = create_server(settings, settings.listen, parts.bindings,
                                                       handlers=parts.handlers,
                                                       reflection_names=parts.reflection_names, serving=False)
    except (PortInUse, TlsFileError) as exc:
        log.error(str(exc))
        parts.on_stop()
        return 2
    parts.on_start(health_servicer)
    shard_health = ShardHealth(parts.shard_gates, [b.full_name for b in parts.bindings])
    shard_health.start(health_servicer)
    if not signalled.is_set():
        # The services this process serves itself; the gateway's public ones are its backends' (on_start).
        announce_serving(health_servicer, [b.full_name for b in parts.bindings])

    def stop() -> None:
        shard_health.stop()
        parts.on_stop()
        telemetry.stop()

    serve_until_signalled(server, health_servicer, settings, signalled, on_stop=stop)
    return 0
