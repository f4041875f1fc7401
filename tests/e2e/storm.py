"""A storm of callers for overload tests: rounds of many concurrent calls with a short deadline, while a
prober asks for health and reads the server's memory; every outcome is kept for the assertions."""
from __future__ import annotations

import asyncio
import pathlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from shared.channels import open_aio_channel
from shared.settings import TlsSettings

# Separate connections, as separate clients would open: one HTTP/2 connection would serialize the storm.
CHANNELS = 8
Payload = bytes | Callable[[], bytes]
CHANNEL_OPTIONS = [("grpc.use_local_subchannel_pool", 1), ("grpc.enable_retries", 0)]


@dataclass(frozen=True)
class Outcome:
    code: grpc.StatusCode
    seconds: float
    reason: str = ""
    retry_delay_s: float | None = None


@dataclass
class Probe:
    """What the prober saw during the storm: health answers (or the failure code), RSS samples in kB, and how
    late the client itself woke up (a starved client lets calls expire that no server could have answered)."""

    health: list[str] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    client_lag_s: float = 0.0


def rss_kb(pid: int) -> int:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _details(error: grpc.RpcError) -> tuple[str, float | None]:
    """The ErrorInfo reason and RetryInfo delay of a failed call's rich status."""
    reason, delay = "", None
    status = rpc_status.from_call(error)
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = info.reason
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            delay = retry.retry_delay.ToTimedelta().total_seconds()
    return reason, delay


async def _call(channel: grpc.aio.Channel, method: str, payload: bytes, deadline_s: float) -> Outcome:
    start = time.perf_counter()
    try:
        await channel.unary_unary(method)(payload, timeout=deadline_s)
    except grpc.aio.AioRpcError as err:
        elapsed = time.perf_counter() - start
        return Outcome(err.code(), elapsed, *_details(err))
    return Outcome(grpc.StatusCode.OK, time.perf_counter() - start)


async def _probe(address: str, service: str, pid: int, seen: Probe, stop: asyncio.Event, every_s: float,
                 timeout_s: float, tls: TlsSettings | None) -> None:
    async with open_aio_channel(address, tls, CHANNEL_OPTIONS) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while not stop.is_set():
            try:
                reply = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout_s)
                seen.health.append(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))
            except grpc.aio.AioRpcError as err:
                seen.health.append(err.code().name)
            seen.rss_kb.append(rss_kb(pid))
            due = time.monotonic() + every_s
            try:
                await asyncio.wait_for(stop.wait(), every_s)
            except TimeoutError:
                seen.client_lag_s = max(seen.client_lag_s, time.monotonic() - due)


async def _callers(address: str, method: str, payload: Payload, callers: int, rounds: int,
                   deadline_s: float, tls: TlsSettings | None) -> list[Outcome]:
    channels = [open_aio_channel(address, tls, CHANNEL_OPTIONS) for _ in range(CHANNELS)]
    outcomes: list[Outcome] = []
    try:
        for _ in range(rounds):
            requests = [payload() if callable(payload) else payload for _ in range(callers)]
            outcomes += await asyncio.gather(*(_call(channels[i % CHANNELS], method, request, deadline_s)
                                               for i, request in enumerate(requests)))
    finally:
        for channel in channels:
            await channel.close()
    return outcomes


async def _storm(address: str, method: str, payload: Payload, callers: int, rounds: int, deadline_s: float,
                 health_service: str, pid: int, tls: TlsSettings | None) -> tuple[list[Outcome], Probe]:
    seen, stop = Probe(), asyncio.Event()
    prober = asyncio.create_task(_probe(address, health_service, pid, seen, stop, 0.1, deadline_s, tls))
    try:
        return await _callers(address, method, payload, callers, rounds, deadline_s, tls), seen
    finally:
        stop.set()
        await prober


def storm(address: str, method: str, payload: Payload, *, callers: int, rounds: int, deadline_s: float,
          health_service: str, pid: int, tls: TlsSettings | None = None) -> tuple[list[Outcome], Probe]:
    """`rounds` times, `callers` concurrent calls of `method` with `payload` (serialized request bytes, or a
    function that makes a new one for each call); meanwhile health is asked (with
    the callers' deadline) and the RSS of process `pid` read, every 0.1 s."""
    return asyncio.run(_storm(address, method, payload, callers, rounds, deadline_s, health_service, pid, tls))


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else (values[0] if values else 0.0)


def summary(outcomes: list[Outcome]) -> str:
    """One line per status code: count, median and p95 latency in ms."""
    lines = []
    for code in sorted({o.code for o in outcomes}, key=lambda c: c.name):
        times = [o.seconds for o in outcomes if o.code == code]
        lines.append(f"{code.name}: {len(times)} calls, median {statistics.median(times) * 1000:.0f} ms, "
                     f"p95 {p95(times) * 1000:.0f} ms")
    return "; ".join(lines)
