"""The floor under `make bench`'s figures: what Python gRPC alone costs on this machine, with no database and
no logic. An empty unary server (it answers each request with its own bytes), and the same server behind an
empty proxy that forwards each call as the gateway does (a sync grpc server calling a channel), each driven
like the real write. Whatever the gateway does, it cannot beat the second line.

The hops are secured as the cluster's are: the client reaches the proxy over TLS, the proxy reaches the server
over mutual TLS (the server requires a client certificate, as a service does), so the floor pays for the same
handshakes and record encryption as the gateway path and the ratio between them counts only our own code.

    python -m benchmarks.grpc_floor             # measure both at concurrency 8 and 32
    python -m benchmarks.grpc_floor serve CA CERT KEY [UPSTREAM]   # (internal) one server; prints its port
"""
from __future__ import annotations

import asyncio
import contextlib
import pathlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent import futures

import grpc

from benchmarks.measure import Figures, drive
from launcher.certs import Authority
from shared.channels import add_port, open_aio_channel, open_channel
from shared.settings import TlsSettings

METHOD = "/elearning.bench.v1.Floor/Echo"
PAYLOAD = bytes(range(64))  # about the size of a RecordLessonProgressRequest
PLAINTEXT = "-"  # in place of the three TLS files: a plaintext floor


def serve(tls: TlsSettings | None, upstream: str | None) -> None:
    """An empty server (or, given `upstream`, an empty proxy to it) on a free port, until killed."""
    if upstream is None:
        def answer(request: bytes, context) -> bytes:
            return request
    else:
        forward = open_channel(upstream, tls).unary_unary(METHOD)

        def answer(request: bytes, context) -> bytes:
            response, call = forward.with_call(request, timeout=context.time_remaining(),
                                               metadata=context.invocation_metadata())
            context.set_trailing_metadata(call.trailing_metadata())
            return response

    handler = grpc.method_handlers_generic_handler(
        "elearning.bench.v1.Floor", {"Echo": grpc.unary_unary_rpc_method_handler(answer)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32), handlers=[handler])
    # The proxy's port is public like the gateway's; the server, like a service, wants the caller's certificate.
    port = add_port(server, "127.0.0.1:0", tls, require_client_cert=upstream is None)
    server.start()
    print(port, flush=True)
    server.wait_for_termination()


def credentials(folder: pathlib.Path) -> TlsSettings:
    """A certificate for the floor's processes (and their client) from the CA in `folder`, made if missing."""
    authority = Authority(folder)
    pair = authority.issue("bench-floor")
    return TlsSettings(str(authority.ca.cert), str(pair.cert), str(pair.key))


class FloorProcess(str):
    """A floor process's address ("127.0.0.1:port"), which also knows the process (`pid`) for the CPU account."""

    pid: int

    def __new__(cls, address: str, pid: int) -> FloorProcess:
        made = super().__new__(cls, address)
        made.pid = pid
        return made


@contextlib.contextmanager
def started(tls: TlsSettings | None, *upstream: str) -> Iterator[FloorProcess]:
    """One floor process (plaintext when `tls` is None, as a cluster started with --insecure)."""
    files = [tls.ca, tls.cert, tls.key] if tls else [PLAINTEXT] * 3
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.grpc_floor", "serve", *files, *upstream],
                               stdout=subprocess.PIPE, text=True)
    try:
        port = process.stdout.readline().strip()
        if not port.isdigit():
            raise SystemExit(f"the floor's {'proxy' if upstream else 'server'} did not start "
                             f"(exit status {process.poll()}); see its error above")
        yield FloorProcess(f"127.0.0.1:{port}", process.pid)
    finally:
        process.kill()
        process.wait()


async def echo(address: str, label: str, concurrency: int, seconds: float, tls: TlsSettings | None) -> Figures:
    async with open_aio_channel(address, tls) as channel:
        call = channel.unary_unary(METHOD)
        return await drive(label, lambda _i: call(PAYLOAD, timeout=5), concurrency, seconds)


def measure(concurrency: int, seconds: float, tls: TlsSettings) -> list[Figures]:
    with started(tls) as server, started(tls, server) as proxy:
        return [asyncio.run(echo(server, "floor: empty server", concurrency, seconds, tls)),
                asyncio.run(echo(proxy, "floor: empty proxy + server", concurrency, seconds, tls))]


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"]:
        serve(None if argv[1] == PLAINTEXT else TlsSettings(*argv[1:4]), argv[4] if len(argv) > 4 else None)
        return 0
    with tempfile.TemporaryDirectory(prefix="elearn-floor-") as folder:
        tls = credentials(pathlib.Path(folder))
        for concurrency in (8, 32):
            for figures in measure(concurrency, 4.0, tls):
                print(figures.line())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
