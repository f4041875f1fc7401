"""The pipeline's plain steps folded into one interceptor: the same order, the steps that choose their methods
kept apart, and a call passing the folded steps exactly as it passed them one by one."""
from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import wrappers_pb2

from shared.interceptors import Behavior, FoldedSteps, UnaryWrapInterceptor, folded
from shared.shedding import Shedder, ShedLimits


class Mark(UnaryWrapInterceptor):
    def __init__(self, name: str, seen: list[str]) -> None:
        super().__init__()
        self.name, self.seen = name, seen

    def wrap(self, behavior: Behavior, method: str) -> Behavior:
        def marked(request: Any, context: Any) -> Any:
            self.seen.append(self.name)
            return behavior(request, context)

        return marked


class Passing(grpc.ServerInterceptor):
    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        return continuation(handler_call_details)


class Details(grpc.HandlerCallDetails):
    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata = ()


def test_runs_of_plain_steps_fold_in_order_and_the_others_stay_apart():
    seen: list[str] = []
    other = Passing()
    slots = Shedder(ShedLimits(max_workers=4, max_queue=0, retry_after_ms=100, cpu_slots=2), "test", "test").slots
    a, b, c, d = (Mark(n, seen) for n in "abcd")
    steps = folded([other, slots, a, b, c, other, d])
    assert steps[:2] == [other, slots] and steps[3:] == [other, d]
    assert isinstance(steps[2], FoldedSteps) and steps[2].steps == (a, b, c)


def test_a_call_meets_the_folded_steps_outermost_first_and_is_parsed_once():
    seen: list[str] = []
    parsed: list[bytes] = []

    def deserialize(raw: bytes) -> Any:
        parsed.append(raw)
        return wrappers_pb2.StringValue.FromString(raw)

    def behavior(request: Any, context: Any) -> str:
        seen.append("handler")
        return request.value

    handler = grpc.unary_unary_rpc_method_handler(behavior, request_deserializer=deserialize)
    (step,) = folded([Mark("a", seen), Mark("b", seen)])
    wrapped = step.intercept_service(lambda _details: handler, Details("/pkg.S/M"))
    assert wrapped is not None and wrapped.request_deserializer is None
    assert wrapped.unary_unary(wrappers_pb2.StringValue(value="hi").SerializeToString(), None) == "hi"
    assert seen == ["a", "b", "handler"] and len(parsed) == 1
    assert step.intercept_service(lambda _details: None, Details("/pkg.S/Other")) is None
