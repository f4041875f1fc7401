"""FanOut: the caller's thread runs the last task; results come in order, each error when it is reached, and
no task's context changes leak into the caller's."""
import contextvars
import threading

import pytest

from shared.fan_out import FanOut

MARK: contextvars.ContextVar[str] = contextvars.ContextVar("mark", default="caller")


@pytest.fixture
def pool():
    fan_out = FanOut(max_workers=4)
    yield fan_out
    fan_out.shutdown(wait=True)


def test_the_last_task_runs_in_the_callers_thread_and_the_others_in_the_pool(pool):
    caller = threading.get_ident()
    threads = list(pool.map(lambda _: threading.get_ident(), range(4)))
    assert threads[-1] == caller
    assert caller not in threads[:-1]


def test_a_single_task_makes_no_hand_off(pool):
    assert list(pool.map(lambda _: threading.get_ident(), ["only"])) == [threading.get_ident()]
    assert list(pool.map(lambda item: item, [])) == []


def test_without_caller_runs_last_every_task_runs_in_the_pool():
    fan_out = FanOut(max_workers=2, caller_runs_last=False)
    try:
        assert threading.get_ident() not in set(fan_out.map(lambda _: threading.get_ident(), range(3)))
    finally:
        fan_out.shutdown(wait=True)


def test_results_come_in_order_and_the_last_tasks_error_only_when_reached(pool):
    def task(item: int) -> int:
        if item == 9:
            raise ValueError("the last task failed")
        return item * 10

    results = pool.map(task, [1, 2, 9])  # the last one has already run, and failed
    assert next(results) == 10
    assert next(results) == 20
    with pytest.raises(ValueError, match="the last task failed"):
        next(results)


def test_a_tasks_context_changes_stay_in_the_task(pool):
    def task(name: str) -> str:
        seen = MARK.get()
        MARK.set(name)
        return seen

    token = MARK.set("request")
    try:
        assert list(pool.map(task, ["a", "b", "c"])) == ["request"] * 3
        assert MARK.get() == "request"
    finally:
        MARK.reset(token)
