"""The bounded retry of transactions that lost a race, without I/O: fake driver errors, a fake pool, no sleeping."""
from __future__ import annotations

import contextlib

import pytest

from shared import deadlines
from shared.errors import Aborted
from shared.pg import transactions


class DriverError(Exception):
    """Stands for a psycopg2 error: only its SQLSTATE matters here."""

    def __init__(self, pgcode: str):
        super().__init__(pgcode)
        self.pgcode = pgcode


def failing(*errors: BaseException, result: str = "done"):
    """A body raising `errors` one per call, then returning `result`; it counts its calls."""
    calls = []

    def body(*_args):
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    return body, calls


def mapped(code: str) -> Aborted:
    """A lost race as a store sees it after the pool translated it (`raise Aborted(...) from exc`)."""
    try:
        try:
            raise DriverError(code)
        except DriverError as exc:
            raise Aborted("concurrent update") from exc
    except Aborted as exc:
        return exc


def run(body, **options):
    pauses = []
    result = transactions.retrying(body, sleep=pauses.append, jitter=lambda: 0.5, **options)
    return result, pauses


@pytest.mark.parametrize("code", ["40001", "40P01"])
def test_a_lost_race_is_retried_until_it_succeeds(code):
    body, calls = failing(DriverError(code), mapped(code))
    result, pauses = run(body)
    assert (result, len(calls)) == ("done", 3)
    assert pauses == [transactions.BASE_BACKOFF_S, 2 * transactions.BASE_BACKOFF_S]


def test_retries_are_bounded_and_the_last_error_reaches_the_caller():
    errors = [mapped("40P01") for _ in range(5)]
    body, calls = failing(*errors)
    with pytest.raises(Aborted) as caught:
        run(body)
    assert len(calls) == transactions.ATTEMPTS and caught.value is errors[transactions.ATTEMPTS - 1]


@pytest.mark.parametrize("error", [DriverError("23505"), DriverError("55P03"), ValueError("a bug"),
                                   Aborted("no driver error behind it")])
def test_other_errors_are_not_retried(error):
    body, calls = failing(error)
    with pytest.raises(type(error)):
        run(body)
    assert len(calls) == 1


def test_an_error_that_merely_happened_while_handling_a_lost_race_is_not_one():
    try:
        try:
            raise DriverError("40001")
        except DriverError:
            raise ValueError("raised while handling it, not from it")  # noqa: B904 (the case under test)
    except ValueError as exc:
        assert not transactions.transient(exc)


def test_no_retry_when_the_callers_deadline_leaves_no_time_for_it():
    body, calls = failing(DriverError("40001"))
    with deadlines.within(0.02), pytest.raises(DriverError):
        run(body)
    assert len(calls) == 1
    body, calls = failing(DriverError("40001"))
    with deadlines.within(30):
        assert run(body)[0] == "done"


def test_backoff_doubles_and_is_jittered():
    assert transactions.backoff(1, lambda: 0.0) == pytest.approx(transactions.BASE_BACKOFF_S / 2)
    assert transactions.backoff(1, lambda: 1.0) == pytest.approx(transactions.BASE_BACKOFF_S * 1.5)
    assert transactions.backoff(3, lambda: 0.5) == pytest.approx(transactions.BASE_BACKOFF_S * 4)


class FakePools:
    """Counts the transactions opened; a body's failure leaves the transaction rolled back."""

    def __init__(self):
        self.opened, self.committed = 0, 0

    @contextlib.contextmanager
    def write(self, shard):
        self.opened += 1
        yield f"cursor on {shard}"
        self.committed += 1


def test_write_runs_each_attempt_in_a_fresh_transaction():
    pools = FakePools()
    body, calls = failing(mapped("40P01"), result="row")
    assert transactions.write(pools, "eu", body, sleep=lambda _s: None) == "row"
    assert (pools.opened, pools.committed, len(calls)) == (2, 1, 2)
