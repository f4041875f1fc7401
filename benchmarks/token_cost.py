"""What verifying an access token costs a call: a first verification (signature, claims) and a cached one, in
microseconds, beside the time of one RecordLessonProgress call made alone; printed as ratios by `make bench`.

A call pays verification twice (gateway, then service), each a cache hit after a token's first call there.
"""
from __future__ import annotations

import pathlib
import statistics
import time
from collections.abc import Callable

from shared.auth.tokens import Verifier, user_token

SAMPLES = 400


def _per_call_us(run: Callable[[], object], samples: int) -> float:
    begin = time.perf_counter()
    for _ in range(samples):
        run()
    return (time.perf_counter() - begin) / samples * 1e6


def verification_us(auth_dir: pathlib.Path, samples: int = SAMPLES) -> tuple[float, float]:
    """(first verification, cached verification) of one token, in microseconds per call."""
    tokens = iter([user_token(auth_dir, 1000 + i, "STUDENT") for i in range(samples)])
    verifier = Verifier(auth_dir)
    first = _per_call_us(lambda: verifier.verify(next(tokens)), samples)  # each token new: no cache hit
    cached_token = user_token(auth_dir, 1, "STUDENT")
    verifier.verify(cached_token)
    cached = _per_call_us(lambda: verifier.verify(cached_token), samples * 10)
    return first, cached


def single_call_us(call: Callable[[int], object], samples: int = 200) -> float:
    """The median time of one call made alone (no other call in flight), in microseconds."""
    times = []
    for i in range(samples):
        begin = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - begin) * 1e6)
    return statistics.median(times)


def report(auth_dir: pathlib.Path, call: Callable[[int], object]) -> str:
    first, cached = verification_us(auth_dir)
    alone = single_call_us(call)
    return (f"token verification: first {first:.0f} us, cached {cached:.1f} us; one call alone {alone:.0f} us; "
            f"per call (gateway + service, cached) = {2 * cached / alone:.2%} of the single-call path, "
            f"uncached {2 * first / alone:.2%} (target < 5 %)")
