"""The floor under `make bench`'s figures: what Python gRPC alone costs on this machine, with no database and
no logic. An empty unary server (it answers each request with its own bytes), and the same server behind an
empty proxy that forwards each call as the gateway does (a sync grpc server calling a channel), each driven
like the real write. Whatever the gateway does, it cannot beat the second line.

    python -m benchmarks.grpc_floor             # measure both at concurrency 8 and 32
    python -m benchmarks.grpc_floor serve [UPSTREAM]   # (internal) one server; prints its port
"""
from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import Iterator
from concurrent import futures

import grpc

from benchmarks.measure import Figures, drive

METHOD = "/elearning.bench.v1.Floor/Echo"
PAYLOAD = bytes(range(64))  # about the size of a RecordLessonProgressRequest


def serve(upstream: str | None) -> None:
    """An empty server (or, given `upstream`, an empty proxy to it) on a free port, until killed."""
    if upstream is None:
        def answer(request: bytes, context) -> bytes:
            return request
    else:
        forward = grpc.insecure_channel(upstream).unary_unary(METHOD)

        def answer(request: bytes, context) -> bytes:
            response, call = forward.with_call(request, timeout=context.time_remaining(),
                                               metadata=context.invocation_metadata())
            context.set_trailing_metadata(call.trailing_metadata())
            return response

    handler = grpc.method_handlers_generic_handler(
        "elearning.bench.v1.Floor", {"Echo": grpc.unary_unary_rpc_method_handler(answer)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32), handlers=[handler])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    server.wait_for_termination()


@contextlib.contextmanager
def started(*upstream: str) -> Iterator[str]:
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.grpc_floor", "serve", *upstream],
                               stdout=subprocess.PIPE, text=True)
    try:
        port = process.stdout.readline().strip()
        if not port.isdigit():
            raise SystemExit(f"the floor's {'proxy' if upstream else 'server'} did not start "
                             f"(exit status {process.poll()}); see its error above")
        yield f"127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait()


async def echo(address: str, label: str, concurrency: int, seconds: float) -> Figures:
    async with grpc.aio.insecure_channel(address) as channel:
        call = channel.unary_unary(METHOD)
        return await drive(label, lambda _i: call(PAYLOAD, timeout=5), concurrency, seconds)


def measure(concurrency: int, seconds: float) -> list[Figures]:
    with started() as server, started(server) as proxy:
        return [asyncio.run(echo(server, "floor: empty server", concurrency, seconds)),
                asyncio.run(echo(proxy, "floor: empty proxy + server", concurrency, seconds))]


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"]:
        serve(argv[1] if len(argv) > 1 else None)
        return 0
    for concurrency in (8, 32):
        for figures in measure(concurrency, 4.0):
            print(figures.line())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
