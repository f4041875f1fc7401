"""loaddriver.histogram: percentiles within 0.4 % of the exact nearest-rank ones, in a bounded number of buckets."""
from __future__ import annotations

import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from loaddriver.histogram import LatencyHistogram, bucket_bounds, bucket_of, min_samples

PS = ("0", "1", "50", "90", "99", "99.9", "100")


def exact(values: list[float], p: str) -> float:
    ordered = sorted(values)
    return ordered[min(max(math.ceil(float(p) * len(ordered) / 100), 1), len(ordered)) - 1]


def test_every_microsecond_lands_in_the_bucket_that_bounds_it():
    for micros in list(range(0, 5000)) + [2 ** k + d for k in range(8, 40) for d in (-1, 0, 1)]:
        low, high = bucket_bounds(bucket_of(micros))
        assert low <= micros <= high and (high - low + 1) * 128 <= max(low, 128) * 1.0001, micros


def test_below_256_microseconds_percentiles_are_exact():
    histogram = LatencyHistogram()
    values = [n / 1000 for n in range(1, 201)]
    for value in values:
        histogram.record(value)
    assert histogram.percentiles(PS) == [exact(values, p) for p in PS]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=120_000_000), min_size=1, max_size=400), st.sampled_from([0, 4]))
def test_percentiles_are_within_0_4_percent_of_the_exact_ones(micros, merge_bits):
    """Within 1/256 of the exact percentile; within 16/256 (6 %) when 16 buckets are merged into one."""
    values = [m / 1000 for m in micros]
    histogram = LatencyHistogram(merge_bits)
    for value in values:
        histogram.record(value)
    for p, got in zip(PS, histogram.percentiles(PS), strict=True):
        want = exact(values, p)
        assert abs(got - want) <= want * 2 ** merge_bits / 256 + 0.0005 * 2 ** merge_bits, (p, got, want)
    assert (histogram.count, histogram.min_ms, histogram.max_ms) == (len(values), min(values), max(values))
    assert histogram.percentiles(("0", "100")) == [min(values), max(values)]  # the first and last rank, exact


def test_memory_is_bounded_by_the_range_not_the_calls():
    rng = random.Random(3)
    histogram = LatencyHistogram()
    for _ in range(200_000):
        histogram.record(rng.lognormvariate(2, 1.5) % 10_000)
    assert histogram.count == 200_000
    assert len(histogram.counts) <= bucket_of(10_000_000) + 1 < 2_300


def test_how_many_samples_a_percentile_needs():
    assert [min_samples(p) for p in ("50", "90", "99", "99.9", "100")] == [2, 10, 100, 1000, 1]
    assert LatencyHistogram().percentiles(("50", "99")) == [None, None]
