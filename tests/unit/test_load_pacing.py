"""loaddriver.pacing: call k's start time follows the target rate, ramping up linearly when asked."""
import pytest

from loaddriver.pacing import Pacer


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
