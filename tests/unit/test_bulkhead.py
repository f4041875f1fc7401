"""The per-shard bulkhead and the deadline watchdog, without a database: the gate's bound, its re-entry and
its refusal within the call's deadline; the watchdog's cancel, then its cut of a read blocked on a socket."""
from __future__ import annotations

import contextvars
import socket
import threading
import time

import pytest

from shared import deadlines
from shared.bulkhead import SHARD_BUSY, ShardGate, Watchdog, margin
from shared.errors import ShardUnavailable


def test_the_gate_admits_its_limit_and_refuses_the_next_naming_the_shard():
    gate = ShardGate("eu", 3, stall_s=0.05)
    entered = [(contextvars.Context(), gate.entered("primary")) for _ in range(3)]  # three calls' contexts
    for context, held in entered:
        context.run(held.__enter__)
    started = time.monotonic()
    with deadlines.within(3.0), pytest.raises(ShardUnavailable) as refused:
        with gate.entered("primary"):
            pass
    assert time.monotonic() - started < 1.0  # stalled: nothing finished, so no wait for the deadline
    assert refused.value.reason == SHARD_BUSY and refused.value.shard == "eu" and "eu" in refused.value.message
    for context, held in entered:
        context.run(held.__exit__, None, None, None)
    with gate.entered("primary"):
        assert gate.in_flight == 1
    assert gate.in_flight == 0 and gate.refused == 1


def test_a_call_holding_the_gate_reenters_it_even_when_full():
    gate = ShardGate("na", 1, stall_s=0.0)
    with gate.entered("replica"):
        with gate.entered("primary"):
            assert gate.in_flight == 1
    with gate.entered("primary"):
        pass


def test_the_gate_waits_no_longer_than_the_call_has_left():
    gate = ShardGate("apac", 1, stall_s=5.0)
    blocker = threading.Event()
    holding = threading.Event()

    def hold():
        with gate.entered("primary"):
            holding.set()
            blocker.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(5)
    started = time.monotonic()
    with deadlines.within(0.4), pytest.raises(ShardUnavailable):
        with gate.entered("primary"):
            pass
    waited = time.monotonic() - started
    blocker.set()
    thread.join()
    assert waited < 0.4


def test_the_gates_are_per_thread_context_so_other_threads_still_count():
    gate = ShardGate("eu", 2, stall_s=0.0)
    results = []
    barrier = threading.Barrier(4)
    release = threading.Event()

    def call():
        barrier.wait()
        try:
            with gate.entered("primary"):
                results.append("in")
                release.wait(2)
        except ShardUnavailable:
            results.append("busy")

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    release.set()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["busy", "busy", "in", "in"]


def test_a_full_gate_whose_calls_keep_finishing_makes_a_new_call_wait_not_fail():
    gate = ShardGate("eu", 1, stall_s=0.3)
    releases = threading.Event()

    def steady_calls():  # each holds the only slot 0.1 s, well inside the stall window
        for _ in range(5):
            with gate.entered("primary"):
                time.sleep(0.1)
            time.sleep(0.001)
        releases.set()

    holder = threading.Thread(target=steady_calls)
    holder.start()
    time.sleep(0.05)
    with deadlines.within(3.0), gate.entered("primary"):
        pass
    holder.join()
    assert gate.refused == 0


def _fill(gate: ShardGate) -> list[tuple[contextvars.Context, object, object]]:
    """`gate.limit` calls entered, each in a context of its own: (context, its context manager, its pass)."""
    calls = []
    for _ in range(gate.limit):
        context, held = contextvars.Context(), gate.entered("primary")
        calls.append((context, held, context.run(held.__enter__)))
    return calls


def _time_to_refusal(gate: ShardGate) -> float:
    started = time.monotonic()
    with deadlines.within(3.0), pytest.raises(ShardUnavailable):
        with gate.entered("primary"):
            pass
    return time.monotonic() - started


@pytest.mark.parametrize("cut", [True, False])
def test_calls_the_watchdog_ended_are_no_progress_so_the_refilled_gate_stays_stalled(cut):
    gate = ShardGate("eu", 2, stall_s=1.0)
    first = _fill(gate)
    time.sleep(1.1)  # stalled: full, and nothing finished for stall_s
    for context, held, entry in first:
        entry.cut = cut  # as the pool marks a connection the watchdog cancelled
        context.run(held.__exit__, None, None, None)
    second = _fill(gate)  # the next calls take the slots and hang as well
    waited = _time_to_refusal(gate)
    for context, held, _entry in second:
        context.run(held.__exit__, None, None, None)
    if cut:  # the shard is still stalled: refused at once
        assert waited < 0.5, waited
    else:  # calls that finished on their own are progress: the next waits a stall window before giving up
        assert waited >= 0.9, waited


@pytest.mark.parametrize("left, expected", [(0.2, 0.15), (2.0, 0.5), (30.0, 1.0)])
def test_the_margin_is_a_quarter_of_the_time_left_within_bounds(left, expected):
    assert margin(left) == pytest.approx(expected)


def test_the_watchdog_cancels_then_cuts_a_call_blocked_past_its_deadline():
    ours, theirs = socket.socketpair()
    cancelled = threading.Event()
    watchdog = Watchdog()
    started = time.monotonic()
    with deadlines.within(0.8), watchdog.watching(ours.fileno(), cancelled.set) as watch:
        assert ours.recv(1) == b""  # blocked until the cut: end of file, as libpq sees it
    ended = time.monotonic() - started
    assert cancelled.is_set() and watch.cancelled and watch.cut
    assert 0.5 < ended < 0.8
    ours.close()
    theirs.close()


def test_the_watchdog_leaves_a_call_finished_in_time_alone():
    ours, theirs = socket.socketpair()
    cancelled = threading.Event()
    watchdog = Watchdog()
    with deadlines.within(0.4), watchdog.watching(ours.fileno(), cancelled.set) as watch:
        pass
    time.sleep(0.6)
    assert not cancelled.is_set() and not watch.cancelled
    theirs.sendall(b"x")
    assert ours.recv(1) == b"x"
    ours.close()
    theirs.close()


class CountingCondition(threading.Condition):
    """The watchdog's condition, counting the wake-ups it sends its thread."""

    notified = 0

    def notify(self, n: int = 1) -> None:
        self.notified += 1
        super().notify(n)


def test_the_watchdog_wakes_its_thread_only_for_a_new_earliest_timer():
    watchdog = Watchdog()
    watchdog._wake = wake = CountingCondition()
    fired = threading.Event()
    now = time.monotonic()
    for n in range(50):  # later and later, as the timers of calls arriving one after another
        watchdog._at(now + 30 + n, lambda: None)
    assert wake.notified == 1  # the first; each later one is due after the one the thread sleeps until
    watchdog._at(time.monotonic() + 0.05, fired.set)  # earlier than all: the thread must wake for it
    assert wake.notified == 2
    assert fired.wait(0.5)


def test_a_timer_set_before_the_earliest_still_fires_in_time():
    watchdog = Watchdog()
    fired = threading.Event()
    watchdog._at(time.monotonic() + 30, lambda: None)
    set_at = time.monotonic()
    watchdog._at(set_at + 0.1, fired.set)
    assert fired.wait(1.0)
    assert time.monotonic() - set_at < 0.1 + 0.2  # on time, give or take the coalescing and a loaded machine
