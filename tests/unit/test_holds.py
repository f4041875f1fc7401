"""shared.pg.holds: a write finding no writable node is held, within the hold limit, the call's deadline and the
shard's count of held calls, and the other shards keep their own count."""
from __future__ import annotations

import time

from shared import deadlines
from shared.pg.holds import RETRY_PAUSE_S, PrimaryHolds


def tries(holds: PrimaryHolds, shard: str = "eu", attempt_s: float = 0.0) -> int:
    """How many more tries one held call gets before its hold gives up."""
    count = 0
    with holds.held(shard) as hold:
        while hold.wait(attempt_s):
            count += 1
    return count


def test_a_hold_ends_at_its_limit():
    began = time.monotonic()
    count = tries(PrimaryHolds(["eu"], limit_s=0.3, max_held=4))
    assert 1 <= count <= round(0.3 / RETRY_PAUSE_S)
    assert time.monotonic() - began < 0.3 + RETRY_PAUSE_S * 3


def test_no_hold_when_the_limit_is_zero():
    assert tries(PrimaryHolds(["eu"], limit_s=0.0, max_held=4)) == 0


def test_the_deadline_leaves_room_for_the_last_try():
    holds = PrimaryHolds(["eu"], limit_s=10.0, max_held=4)
    with deadlines.within(1.0):
        began = time.monotonic()
        tries(holds, attempt_s=0.5)  # each try may take 0.5 s: none starts later than 0.5 s before the end
        assert time.monotonic() - began <= 0.5 + RETRY_PAUSE_S
    with deadlines.within(0.3):
        assert tries(holds, attempt_s=0.5) == 0


def test_a_shard_holds_at_most_max_held_calls_and_others_keep_theirs():
    holds = PrimaryHolds(["eu", "na"], limit_s=10.0, max_held=2)
    first, second = holds.held("eu"), holds.held("eu")
    one, two = first.__enter__(), second.__enter__()
    assert one.wait(0.0) and two.wait(0.0)
    assert tries(holds, "eu") == 0  # a third eu call fails at once
    assert one.wait(0.0)  # those already held keep going
    with deadlines.within(0.2):
        assert tries(holds, "na") >= 1  # na has its own count
    one.connected()
    first.__exit__(None, None, None)
    with deadlines.within(0.2):
        assert tries(holds, "eu") >= 1  # a slot given back is used again
    second.__exit__(None, None, None)
    assert holds.longest_s > 0


def test_after_the_window_calls_fail_at_once_until_the_shard_is_reachable_again():
    holds = PrimaryHolds(["eu"], limit_s=0.2, max_held=4)
    assert tries(holds) >= 1  # the first call of the outage is held through the window
    began = time.monotonic()
    assert tries(holds) == 0  # the window is spent: the next call fails at once
    assert time.monotonic() - began < RETRY_PAUSE_S
    with holds.held("eu") as hold:
        hold.connected()  # a connection succeeded: the outage is over
    assert tries(holds) >= 1  # a new outage gets a new window
