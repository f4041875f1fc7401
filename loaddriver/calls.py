"""Execute one planned RPC through the gateway and record what happened: status, latency, shard, reason, and
which node served its reads; the call carries the run's session token and moves it forward."""
from __future__ import annotations

import time

import grpc

from elearning.content.v1 import content_service_pb2_grpc
from elearning.courses.v1 import courses_service_pb2_grpc
from elearning.enrollments.v1 import enrollments_service_pb2_grpc
from elearning.payments.v1 import payments_service_pb2_grpc
from elearning.users.v1 import users_service_pb2_grpc
from loaddriver.plan import Planned
from loaddriver.session import SessionToken
from shared.consistency import SERVED_BY
from shared.grpc_errors import error_reason

STUB_CLASSES = {
    "users": users_service_pb2_grpc.UserServiceStub,
    "courses": courses_service_pb2_grpc.CourseServiceStub,
    "enrollments": enrollments_service_pb2_grpc.EnrollmentServiceStub,
    "payments": payments_service_pb2_grpc.PaymentServiceStub,
    "content": content_service_pb2_grpc.ContentServiceStub,
}


class Stubs:
    """The five services' stubs over one channel to the gateway."""

    def __init__(self, channel: grpc.Channel):
        self.by_service = {name: cls(channel) for name, cls in STUB_CLASSES.items()}

    def method(self, planned: Planned):
        return getattr(self.by_service[planned.service], planned.rpc)


def outcome(code: str, expected: str) -> str:
    if code == expected:
        return "success" if code == "OK" else "expected_rejection"
    return "unexpected"


def timing_from_schedule(scheduled: float | None, started: float, end: float) -> dict:
    """The due time (s since the start) and the latency from it (ms), or None for both outside --rps runs."""
    if scheduled is None:
        return {"scheduled_s": None, "scheduled_latency_ms": None}
    return {"scheduled_s": round(scheduled - started, 6), "scheduled_latency_ms": round((end - scheduled) * 1000, 3)}


def rows_written(planned: Planned, response) -> int:
    """The rows a call wrote: a batch's items answered OK, else one for a successful single call."""
    if response is None:
        return 0
    if planned.items:
        return sum(1 for result in response.results if result.status.code == 0)
    return 1


def execute(planned: Planned, stubs: Stubs, session: SessionToken, deadline_s: float, started: float, seq: int,
            worker: int, warmup: bool, scheduled: float | None = None,
            clock=time.perf_counter) -> tuple[dict, object | None]:
    """Run the call with the session token; returns its record (the contract of loaddriver.stats) and the
    response, if any. The response's token is merged before this returns, so before anything the call
    created reaches the Pool. `scheduled` is the clock time the call was due in a --rps run: its latency is
    then also timed from there (coordinated-omission corrected), so a stall also delays the calls behind it."""
    metadata = ((("x-region", planned.region),) if planned.region else ()) + session.metadata()
    begin = clock()
    response, code, reason, detail, trailers = None, "OK", "", "", ()
    try:
        response, call = stubs.method(planned).with_call(planned.request, timeout=deadline_s, metadata=metadata)
        trailers = call.trailing_metadata() or ()
    except grpc.RpcError as error:
        code, detail = error.code().name, error.details() or ""
        reason = error_reason(error)
        trailers = error.trailing_metadata() or ()
    end = clock()
    latency_ms = (end - begin) * 1000
    session.merge_trailers(trailers)
    trailer = dict(trailers)
    record = {
        "seq": seq, "worker": worker, "rpc": planned.rpc, "kind": planned.kind,
        "region": planned.region or (trailer.get("x-region", "") if trailer.get("x-region") != "any" else ""),
        "shard": trailer.get("x-shard", ""), "served_by": trailer.get(SERVED_BY, ""),
        "start_s": round(begin - started, 6), "latency_ms": round(latency_ms, 3),
        **timing_from_schedule(scheduled, started, end), "code": code,
        "expected": planned.expected, "outcome": outcome(code, planned.expected), "reason": reason, "detail": detail,
        "warmup": warmup, "items": planned.items, "rows": rows_written(planned, response),
    }
    return record, response
