"""shared.deadlines: the caller's deadline bounds the time a unit of work may take."""
import types

import grpc
import pytest

from shared import deadlines
from shared.server import DeadlineInterceptor


def test_without_a_deadline_the_limit_applies():
    assert deadlines.remaining() is None
    assert deadlines.budget(5.0) == 5.0


@pytest.mark.parametrize("left, expected", [(10.0, 5.0), (6.0, 4.5), (3.0, 2.0), (0.0, deadlines.MIN_BUDGET_S)])
def test_a_near_deadline_shortens_the_budget_and_keeps_time_for_the_reply(left, expected):
    with deadlines.within(left):
        assert deadlines.budget(5.0) == pytest.approx(expected, abs=0.1)  # time passes on a busy machine
    assert deadlines.remaining() is None


def test_the_interceptor_records_the_calls_deadline():
    seen = []

    def behavior(request, context):
        seen.append(deadlines.remaining())
        return request

    class Context:
        def time_remaining(self):
            return 2.5

    handler = grpc.unary_unary_rpc_method_handler(behavior)
    details = types.SimpleNamespace(method="/test.Service/Ping")
    wrapped = DeadlineInterceptor().intercept_service(lambda _details: handler, details)
    assert wrapped.unary_unary("ping", Context()) == "ping"
    assert 2.4 < seen[0] <= 2.5 and deadlines.remaining() is None


class _ExpiredContext:
    """A servicer context whose deadline has passed: abort raises, as grpcio's does."""

    def __init__(self, remaining: float):
        self.remaining = remaining
        self.aborted = None

    def time_remaining(self) -> float:
        return self.remaining

    def abort(self, code, details):
        self.aborted = (code, details)
        raise RuntimeError("aborted")


def test_a_call_whose_deadline_passed_in_the_queue_does_no_work():
    ran = []
    bounded = DeadlineInterceptor().wrap(lambda request, context: ran.append(request), "/x.Y/Z")
    context = _ExpiredContext(0)
    with pytest.raises(RuntimeError, match="aborted"):
        bounded("request", context)
    assert ran == [] and context.aborted[0] is grpc.StatusCode.DEADLINE_EXCEEDED
    live = _ExpiredContext(1.5)
    bounded("request", live)
    assert ran == ["request"] and live.aborted is None
