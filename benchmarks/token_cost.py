"""What verifying an access token costs a call: a first verification (signature, claims) and a cached one, in
microseconds, beside the time of one RecordLessonProgress call made alone; printed as ratios by `make bench`.

A call pays verification twice (gateway, then service), each a cache hit after a token's first call there.
The ended-session check (Logout's revocation, `shared.auth.revocations`) is measured beside it: a cached
verification with 1,000 ended sessions listed, against one with the check switched off, in the same run.
"""
from __future__ import annotations

import pathlib
import statistics
import time
from collections.abc import Callable

from shared.auth import keys
from shared.auth.revocations import EndedSessions
from shared.auth.tokens import Signer, Verifier, user_token

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


def revocation_check_us(auth_dir: pathlib.Path, samples: int = SAMPLES) -> tuple[float, float]:
    """(cached verification without, with the ended-session lookup) of a token with a session ID, in us."""
    ended = EndedSessions(lambda: [f"ended-{i}" for i in range(1000)], poll_s=3600)
    ended.refresh()
    token = Signer(auth_dir, keys.PEOPLE).mint("1", "STUDENT", session_id="live-session").token
    plain, checked = Verifier(auth_dir), Verifier(auth_dir, ended=ended)
    plain.verify(token)
    checked.verify(token)
    rounds = [(_per_call_us(lambda: plain.verify(token), samples * 10),
               _per_call_us(lambda: checked.verify(token), samples * 10)) for _ in range(3)]
    return min(r[0] for r in rounds), min(r[1] for r in rounds)


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
    without, checked = revocation_check_us(auth_dir)
    alone = single_call_us(call)
    return (f"token verification: first {first:.0f} us, cached {cached:.1f} us; one call alone {alone:.0f} us; "
            f"per call (gateway + service, cached) = {2 * cached / alone:.2%} of the single-call path, "
            f"uncached {2 * first / alone:.2%} (target < 5 %); ended-session check: cached verification "
            f"{without:.2f} us without, {checked:.2f} us with ({checked / without:.2f}x), "
            f"{2 * (checked - without) / alone:.3%} of the single-call path")
