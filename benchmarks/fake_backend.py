"""A fast fake of the whole backend for the load driver's memory benchmark (never for tests): one gRPC server
that answers every method of the five services at once, with the entity the request carried and fresh IDs,
so the driver's follow-up calls have something to use. It stores nothing and checks nothing.

    python -m benchmarks.fake_backend      # serves on a free port and prints it, until killed
"""
from __future__ import annotations

import itertools
import sys
from concurrent import futures

import grpc
from google.protobuf import descriptor_pool, message_factory
from grpc_health.v1 import health_pb2

import loaddriver.calls  # noqa: F401  (imports the five services' descriptors into the default pool)

_ids = itertools.count(1)


def _number(message) -> None:
    """Give every unset `id` field of `message` and of the messages inside it a fresh ID."""
    for field in message.DESCRIPTOR.fields:
        if field.name == "id" and field.type in (field.TYPE_INT64, field.TYPE_UINT64, field.TYPE_INT32):
            if not getattr(message, field.name):
                setattr(message, field.name, next(_ids))
        elif field.message_type is not None and not field.message_type.GetOptions().map_entry:
            if field.is_repeated:
                for item in getattr(message, field.name):
                    _number(item)
            elif message.HasField(field.name):
                _number(getattr(message, field.name))


def _answer(path: str):
    """The handler of /package.Service/Method: the reply built from the request, serialized."""
    service, _slash, method = path.lstrip("/").partition("/")
    descriptor = descriptor_pool.Default().FindMethodByName(f"{service}.{method}")
    request_class = message_factory.GetMessageClass(descriptor.input_type)
    reply_class = message_factory.GetMessageClass(descriptor.output_type)

    def answer(request_bytes: bytes, context) -> bytes:
        if reply_class is health_pb2.HealthCheckResponse:
            return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING).SerializeToString()
        request, reply = request_class.FromString(request_bytes), reply_class()
        for field in request.DESCRIPTOR.fields:
            if field.message_type is reply_class.DESCRIPTOR and not field.is_repeated:
                reply.CopyFrom(getattr(request, field.name))
        _number(reply)
        return reply.SerializeToString()

    return grpc.unary_unary_rpc_method_handler(answer)


class _AnswerEverything(grpc.GenericRpcHandler):
    def __init__(self) -> None:
        self._handlers: dict[str, grpc.RpcMethodHandler] = {}

    def service(self, handler_call_details):
        path = handler_call_details.method
        if path not in self._handlers:
            try:
                self._handlers[path] = _answer(path)
            except KeyError:
                return None
        return self._handlers[path]


def main() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32), handlers=(_AnswerEverything(),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    sys.exit(main())
