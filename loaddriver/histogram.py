"""A fixed-size latency histogram (HdrHistogram's log-linear buckets): memory bounded by the range, not the calls.

Latencies are counted in whole microseconds. Below 256 µs every microsecond has its own bucket; above, each
power of two is split into 128 equal buckets, so a bucket is at most 1/128 of its lower bound wide and a
percentile read back (the bucket's midpoint, kept inside the measured min and max; the min and max themselves
at the first and last rank) is within 0.4 % of the latency that was measured. Ten seconds need about 2,200 buckets,
an hour about 3,300, whatever the count.
A coarse histogram (merge_bits=k) counts 2^k neighbouring buckets as one: within 2^k / 256 (6 % for k=4) in a
sixteenth of the memory, for the many small histograms of the timeline (loaddriver.timeline).
"""
from __future__ import annotations

import math
from fractions import Fraction

_SUB = 128  # buckets per power of two above the linear range
_LINEAR = 2 * _SUB  # values below this (µs) are counted exactly


def bucket_of(micros: int) -> int:
    """The bucket index of a latency in whole microseconds (>= 0)."""
    if micros < _LINEAR:
        return micros
    shift = micros.bit_length() - 8
    return shift * _SUB + (micros >> shift)


def bucket_bounds(index: int) -> tuple[int, int]:
    """(lowest, highest) microsecond value counted in bucket `index`."""
    if index < _LINEAR:
        return index, index
    shift = (index - _SUB) // _SUB
    low = (index - shift * _SUB) << shift
    return low, low + (1 << shift) - 1


def min_samples(p: str | float) -> int:
    """The fewest samples for which the p-th percentile is not simply the largest one: ⌈100 / (100 - p)⌉
    (p99 needs 100, p99.9 needs 1,000)."""
    tail = 100 - Fraction(str(p))
    return math.ceil(100 / tail) if tail > 0 else 1


class LatencyHistogram:
    """Counts of latencies (ms) in log-linear buckets, with the exact count, min, max and mean."""

    __slots__ = ("merge_bits", "counts", "count", "total_ms", "min_ms", "max_ms")

    def __init__(self, merge_bits: int = 0) -> None:
        self.merge_bits = merge_bits
        self.counts: dict[int, int] = {}
        self.count = 0
        self.total_ms = 0.0
        self.min_ms: float | None = None
        self.max_ms: float | None = None

    def record(self, ms: float) -> None:
        index = bucket_of(max(0, round(ms * 1000))) >> self.merge_bits
        self.counts[index] = self.counts.get(index, 0) + 1
        self.count += 1
        self.total_ms += ms
        self.min_ms = ms if self.min_ms is None or ms < self.min_ms else self.min_ms
        self.max_ms = ms if self.max_ms is None or ms > self.max_ms else self.max_ms

    def merge(self, other: LatencyHistogram) -> None:
        """Add the counts of `other` (of the same merge_bits) to these."""
        if other.merge_bits != self.merge_bits:
            raise ValueError("histograms of different resolutions cannot be merged")
        if not other.count:
            return
        for index, count in other.counts.items():
            self.counts[index] = self.counts.get(index, 0) + count
        self.count += other.count
        self.total_ms += other.total_ms
        self.min_ms = other.min_ms if self.min_ms is None else min(self.min_ms, other.min_ms)
        self.max_ms = other.max_ms if self.max_ms is None else max(self.max_ms, other.max_ms)

    def percentiles(self, ps) -> list[float | None]:
        """Nearest-rank percentiles (the value at rank ⌈p/100 · n⌉), read back from the buckets, for the
        ascending sequence `ps` (strings or numbers from 0 to 100); None each when nothing was recorded."""
        if not self.count:
            return [None for _ in ps]
        ranks = [min(max(math.ceil(Fraction(str(p)) * self.count / 100), 1), self.count) for p in ps]
        found, seen, wanted = [], 0, iter(ranks)
        rank = next(wanted)
        for index in sorted(self.counts):
            seen += self.counts[index]
            while rank is not None and seen >= rank:
                # The first and last ranks are the exact min and max, so a percentile from too few samples
                # reads the same as the slowest call.
                found.append(self.min_ms if rank == 1 else self.max_ms if rank == self.count else self._value(index))
                rank = next(wanted, None)
            if rank is None:
                break
        return found

    def _value(self, index: int) -> float:
        low = bucket_bounds(index << self.merge_bits)[0]
        high = bucket_bounds(((index + 1) << self.merge_bits) - 1)[1]
        middle = round((low + high) / 2) / 1000
        return min(max(middle, self.min_ms), self.max_ms)

    def mean(self) -> float | None:
        return self.total_ms / self.count if self.count else None
