"""loaddriver.pacing: call k's start time follows the target rate, ramping up linearly when asked; latency
timed from the schedule (coordinated omission) and the achieved rate, on a scripted clock."""
import pytest

from loaddriver import stats
from loaddriver.calls import timing_from_schedule
from loaddriver.figures import rate
from loaddriver.pacing import Pacer, due, slot_time
from tests.unit.test_load_stats import call


def test_a_constant_rate():
    pacer = Pacer(rps=100)
    assert [pacer.slot_time(k) for k in (0, 50, 100)] == [0.0, 0.5, 1.0]


def test_a_linear_ramp_then_the_full_rate():
    pacer = Pacer(rps=100, ramp_s=2.0)  # 100 calls during the ramp (the area under the rate line)
    assert pacer.slot_time(50) == pytest.approx(2 ** 0.5)
    assert pacer.slot_time(100) == pytest.approx(2.0)
    assert pacer.slot_time(150) == pytest.approx(2.5)
    gaps = [pacer.slot_time(k + 1) - pacer.slot_time(k) for k in (10, 60, 120)]
    assert gaps[0] > gaps[1] > gaps[2] == pytest.approx(0.01)


class ScriptedClock:
    """Time that moves only when the test moves it; waiting (the stop event's wait) moves it too."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> None:
        self.now += seconds


def paced_run(service_ms: list[float], rps: float = 100) -> list[dict]:
    """One worker through a Pacer on the scripted clock, each call taking service_ms[i]: its records."""
    clock = ScriptedClock()
    pacer = Pacer(rps, clock=clock, start=0.0)
    records = []
    for seq, taking in enumerate(service_ms):
        scheduled = pacer.wait(clock)
        begin = clock()
        clock.now += taking / 1000
        record = call(seq, latency=round((clock() - begin) * 1000, 3)) | timing_from_schedule(scheduled, 0.0, clock())
        records.append(record | {"start_s": begin})
    return records


def test_a_stall_pushes_the_latency_from_the_schedule_of_the_calls_queued_behind_it():
    records = paced_run([1.0] * 5 + [200.0] + [1.0] * 34)  # a slot every 10 ms; call 5 stalls for 200 ms
    assert records[5]["latency_ms"] == records[5]["scheduled_latency_ms"] == 200.0
    # Call 6 was due at 60 ms but went out when call 5 returned, at 250 ms, and came back at 251 ms.
    assert [r["latency_ms"] for r in records[6:9]] == [1.0, 1.0, 1.0]
    assert [r["scheduled_latency_ms"] for r in records[6:9]] == [191.0, 182.0, 173.0]
    assert records[-1]["scheduled_latency_ms"] == 1.0  # caught up again
    summary = stats.summarize(records, {"duration_s": 0.4, "options": {"rps": 100}})
    from_send, from_schedule = summary["latency"]["ok"], summary["latency"]["ok_from_schedule"]
    # Read back from histogram buckets: within 0.4 % of what was measured.
    assert from_send["p50"] == from_send["p90"] == pytest.approx(1.0, rel=0.004) and from_send["max"] == 200.0
    assert from_schedule["p50"] > 10 and from_schedule["p90"] > 100  # half the calls waited behind the stall


def test_the_rate_reports_how_many_due_calls_went_out():
    on_time = paced_run([1.0] * 40)
    figures = rate({"rps": 100}, len(on_time), on_time[-1]["start_s"])
    assert figures["due_calls"] == 40 and figures["ratio"] == 1.0 and not figures["missed"]
    assert figures["achieved_rps"] == pytest.approx(100)
    slow = paced_run([25.0] * 40)  # each call takes 2.5 slots: 40 % of the rate
    figures = rate({"rps": 100}, len(slow), slow[-1]["start_s"])
    assert figures["ratio"] == pytest.approx(0.4, abs=0.02) and figures["missed"]
    assert figures["achieved_rps"] == pytest.approx(40, abs=1)
    assert not rate({"rps": 100, "min_rate_ratio": 0.3}, len(slow), slow[-1]["start_s"])["missed"]
    assert rate({"rps": 0}, 40, 1.0) is None


def test_a_backlog_from_the_warm_up_counts_as_due():
    # 1 s of warm-up fell 0.5 s behind; after it the 100 calls sent in 1 s were due from 0.5 s: 150 were due.
    figures = rate({"rps": 100, "warmup_s": 1.0}, 100, last_start_s=1.99, first_slot_s=0.5)
    assert figures["due_calls"] == 150 and figures["ratio"] == pytest.approx(100 / 150) and figures["missed"]
    assert not rate({"rps": 100, "warmup_s": 1.0}, 100, last_start_s=1.99, first_slot_s=1.0)["missed"]


def test_due_counts_the_slots_up_to_a_time():
    assert [due(t, 100) for t in (-0.1, 0.0, 0.005, 0.01, 0.995, 1.0)] == [0, 1, 1, 2, 100, 101]
    for t in (0.3, 1.0, 1.9, 2.0, 2.7):
        assert due(t, 100, ramp_s=2.0) == sum(1 for k in range(1000) if slot_time(k, 100, 2.0) <= t)
