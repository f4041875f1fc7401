"""The recovery loop's schedule, without a database: the full passes asked for by writes of unknown outcome
coalesce, so a shard that froze under many writes costs a few passes, not three per write."""
from __future__ import annotations

from shared.pg.recovery import UNKNOWN_LOOKS_S, RecoveryLoop


class NoPools:
    in_doubt_listener = None


def test_writes_of_unknown_outcome_close_together_share_their_full_passes():
    loop = RecoveryLoop(NoPools())  # type: ignore[arg-type]  # never started: only the schedule is read
    for n in range(200):
        loop.settle_soon(f"elearn:users:eu:{n:x}", ("na",), None)
    assert len(loop._due) == len(UNKNOWN_LOOKS_S)
    loop.settle_soon("elearn:users:eu:ff", ("na",), True)  # a known outcome is always settled on its own
    assert len(loop._due) == len(UNKNOWN_LOOKS_S) + 1
