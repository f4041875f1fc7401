"""make bench's arithmetic: measurements taken side by side (A B C C B A) and combined from their halves."""
from __future__ import annotations

from benchmarks.measure import Figures, combine, side_by_side


def test_side_by_side_runs_each_twice_in_mirrored_order_and_combines_the_halves():
    order = []

    def run(name: str, rate: int):
        def measure(seconds: float) -> Figures:
            order.append((name, seconds))
            return Figures.of(name, 8, [float(len(order))] * int(rate * seconds), 0, seconds)
        return measure

    measured = side_by_side({"a": run("a", 100), "b": run("b", 10)}, 4.0)
    assert order == [("a", 2.0), ("b", 2.0), ("b", 2.0), ("a", 2.0)]
    assert measured["a"].rate == 100 and measured["a"].seconds == 4.0 and measured["a"].calls == 400
    assert measured["b"].latencies_ms == (2.0,) * 20 + (3.0,) * 20  # both halves, in order


def test_combine_recomputes_the_percentiles_over_all_calls():
    fast = Figures.of("x", 8, [1.0] * 99, 1, 1.0)
    slow = Figures.of("x", 8, [50.0] * 99, 2, 1.0)
    both = combine([fast, slow])
    assert (both.calls, both.errors, both.seconds) == (198, 3, 2.0)
    assert both.p50_ms == 50.0 and fast.p99_ms == 1.0 and both.p99_ms == 50.0
