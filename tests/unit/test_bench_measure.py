"""make bench's arithmetic: measurements taken side by side (A B C C B A) and combined from their halves, or
taken at once; the load driver's memory bench reading a growing CSV and a process's RSS."""
from __future__ import annotations

import asyncio
import os
import threading

from benchmarks.load_memory import CsvRows, rss_mb
from benchmarks.measure import Figures, at_once, combine, drive, side_by_side


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


def test_at_once_runs_every_measurement_at_the_same_time():
    started = threading.Barrier(3, timeout=10)  # released only when all three runs are in at the same time

    def run(name: str):
        def measure(seconds: float) -> Figures:
            started.wait()
            return Figures.of(name, 1, [1.0] * 10, 0, seconds, 12)
        return measure

    measured = at_once({name: run(name) for name in ("a", "b", "c")}, 3.0)
    assert list(measured) == ["a", "b", "c"]
    assert all(f.label == name and f.seconds == 3.0 and f.calls == 10 for name, f in measured.items())
    assert combine([measured["a"], measured["b"]]).all_calls == 24


def test_drive_counts_every_call_the_warm_up_and_failed_ones_too():
    made = []

    async def call(i: int) -> None:
        made.append(i)
        await asyncio.sleep(0.002)
        if i % 4 == 0:
            raise RuntimeError("failed")

    figures = asyncio.run(drive("x", call, 2, 0.3, warmup_s=0.2))
    assert figures.all_calls == len(made) > figures.calls + figures.errors > 0


def test_csv_rows_are_counted_as_the_file_grows(tmp_path):
    path = tmp_path / "calls.csv"
    rows = CsvRows(path)
    assert rows.count() == 0  # not written yet
    with path.open("w") as file:
        file.write("seq,rpc\n")
        file.flush()
        assert rows.count() == 0  # the header alone
        file.write("".join(f"{n},GetUser\n" for n in range(1000)))
        file.flush()
        assert rows.count() == 1000
        file.write("1000,Get")
        file.flush()
        assert rows.count() == 1000  # a row half written is not counted yet
        file.write("User\n")
    assert rows.count() == 1001


def test_rss_of_this_process_and_of_none():
    assert 5 < rss_mb(os.getpid()) < 4096
    assert rss_mb(2 ** 22 + 7) is None  # above pid_max: no such process
