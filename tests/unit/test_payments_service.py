"""The payments service over the in-memory store and unit of work: placement on the payer's shard, bad input
rejected before any write, idempotency fingerprints, when the processor is asked (once, with the enrollment held,
never for an enrollment that cannot be paid), keyset pages, and the revenue report merged from every shard."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.payments.domain import CurrencyRevenue, HeldEnrollment, StoredMethod
from services.payments.processor import SandboxProcessor
from services.payments.service import PaymentService
from shared.errors import FailedPrecondition, InvalidArgument, NotFound
from shared.settings import local_topology, parse_shard_map
from tests.unit.fake_units import FakeUnitsOfWork
from tests.unit.payments_fakes import FakePaymentStore
from tests.unit.unit_helpers import an_id

NOW = datetime(2026, 6, 15, tzinfo=UTC)


@pytest.fixture
def shard_map():
    return parse_shard_map(local_topology())


@pytest.fixture
def store(shard_map):
    return FakePaymentStore(shard_map)


class CountingProcessor(SandboxProcessor):
    """The sandbox, counting what it was asked and checking the store held the enrollment first."""

    def __init__(self, store: FakePaymentStore):
        super().__init__(clock=lambda: NOW)
        self.store, self.asked = store, 0

    def authorize(self, method, amount, currency):
        assert [name for name, _ in self.store.calls][-2:] == ["hold_enrollment", "method_on_file"]
        self.asked += 1
        return super().authorize(method, amount, currency)


class Courses:
    """The courses service, with the courses it finds closed."""

    def __init__(self) -> None:
        self.closed: set[int] = set()

    def check_open(self, course_id: int) -> None:
        if course_id in self.closed:
            raise FailedPrecondition(f"course {course_id} is not open", reason="COURSE_NOT_PUBLISHED")


@pytest.fixture
def units(store):
    return FakeUnitsOfWork(store)


@pytest.fixture
def processor(store):
    return CountingProcessor(store)


@pytest.fixture
def courses():
    return Courses()


@pytest.fixture
def service(store, shard_map, units, processor, courses):
    with ThreadPoolExecutor(max_workers=3) as fan_out:
        yield PaymentService(store, shard_map, processor, fan_out, clock=lambda: NOW, courses=courses, units=units)



def pay(service, shard_map, shard="eu", **overrides):
    args = dict(user_id=an_id(shard_map, shard, 1), enrollment_id=an_id(shard_map, shard, 2),
                payment_method_id=an_id(shard_map, shard, 3), amount="19.9", currency="eur",
                description=" Course ", request_id="req-1")
    args.update(overrides)
    return service.create_payment(**args)


def fields(caught) -> set[str]:
    return {v.field for v in caught.value.violations}


def test_a_payment_goes_to_the_payers_shard_with_normalised_money(service, store, shard_map):
    payment = pay(service, shard_map, "apac")
    assert store.calls == [(name, "apac") for name in ("begin_payment", "hold_enrollment", "method_on_file",
                                                        "take_payment")]
    assert (payment.transaction.amount, payment.transaction.currency, payment.transaction.description) == (
        Decimal("19.90"), "EUR", "Course")
    assert payment.invoice.total == Decimal("19.90")


@pytest.mark.parametrize("overrides, field", [
    (dict(amount="0"), "amount.amount"), (dict(amount="-1"), "amount.amount"), (dict(amount="1.001"), "amount.amount"),
    (dict(amount="abc"), "amount.amount"), (dict(amount=""), "amount.amount"),
    (dict(currency="XYZ"), "amount.currency_code"), (dict(currency=""), "amount.currency_code"),
    (dict(description=""), "description"), (dict(description="x" * 501), "description"),
    (dict(request_id=""), "request_id"), (dict(request_id="r" * 129), "request_id"),
    (dict(user_id=0), "user_id"), (dict(enrollment_id=-3), "enrollment_id"),
    (dict(payment_method_id=9), "payment_method_id"),
])
def test_bad_payments_never_reach_the_store(service, store, shard_map, overrides, field):
    with pytest.raises(InvalidArgument) as caught:
        pay(service, shard_map, **overrides)
    assert field in fields(caught)
    assert store.calls == []


def test_every_bad_field_is_reported_at_once(service, shard_map):
    with pytest.raises(InvalidArgument) as caught:
        pay(service, shard_map, amount="0", currency="XYZ", description="", request_id="")
    assert fields(caught) == {"amount.amount", "amount.currency_code", "description", "request_id"}


def test_a_repeat_replays_and_the_same_key_with_other_parameters_is_refused(service, shard_map):
    first = pay(service, shard_map)
    assert pay(service, shard_map, amount="19.90", currency="EUR") == first  # same money, other spelling
    with pytest.raises(InvalidArgument) as caught:
        pay(service, shard_map, amount="20.00")
    assert fields(caught) == {"request_id"} and caught.value.reason == "REQUEST_ID_REUSED"


def test_a_paid_enrollment_is_not_charged_again_and_the_processor_is_not_asked(service, store, processor,
                                                                                shard_map):
    first = pay(service, shard_map)
    with pytest.raises(FailedPrecondition) as caught:
        pay(service, shard_map, request_id="req-2")
    assert caught.value.reason == "ENROLLMENT_NOT_UNPAID" and processor.asked == 1
    assert [t.id for t in store.transactions.values()] == [first.transaction.id]


@pytest.mark.parametrize("held", [HeldEnrollment(1, "CANCELLED", "UNPAID", Decimal("19.90"), "EUR"),
                                  HeldEnrollment(1, "ACTIVE", "REFUNDED", Decimal("19.90"), "EUR")],
                         ids=["cancelled", "refunded"])
def test_an_enrollment_that_cannot_be_paid_never_reaches_the_processor(service, store, processor, shard_map, held):
    store.enrollments[an_id(shard_map, "eu", 2)] = held
    with pytest.raises(FailedPrecondition):
        pay(service, shard_map)
    assert processor.asked == 0 and store.transactions == {}


def test_a_closed_course_is_refused_before_the_processor_and_leaves_the_request_id_free(service, store, processor,
                                                                                       courses, shard_map):
    courses.closed.add(1)
    with pytest.raises(FailedPrecondition) as caught:
        pay(service, shard_map)
    assert caught.value.reason == "COURSE_NOT_PUBLISHED" and processor.asked == 0 and store.transactions == {}
    courses.closed.clear()
    assert pay(service, shard_map).transaction.status == "SUCCEEDED"  # the same request_id, judged afresh


def test_a_charge_that_lost_races_runs_again_whole_and_asks_the_processor_once(service, store, units, processor,
                                                                              shard_map):
    units.lose_races(2)
    payment = pay(service, shard_map)
    assert units.opened == [("write", "eu")] * 3 and units.rolled_back == 2
    assert processor.asked == 1 and list(store.transactions) == [payment.transaction.id]
    assert payment.transaction.status == "SUCCEEDED" and len(store.invoices) == 1


def test_a_declined_card_gives_a_failed_charge_without_invoice(service, store, shard_map):
    store.on_file = StoredMethod("CARD", "tok_decline_1", 12, 2099)
    payment = pay(service, shard_map)
    assert (payment.transaction.status, payment.transaction.failure_reason, payment.invoice) == (
        "FAILED", "card_declined", None)


def test_refunds_need_a_request_id_and_a_valid_optional_amount(service, store, shard_map):
    charge = pay(service, shard_map).transaction
    for amount, currency, request_id, field in (("0", "EUR", "r", "amount.amount"), ("5", "ABC", "r",
                                                "amount.currency_code"), (None, None, "", "request_id")):
        with pytest.raises(InvalidArgument) as caught:
            service.refund_payment(charge.id, amount, currency, "", request_id)
        assert field in fields(caught)
    whole = service.refund_payment(charge.id, None, None, " changed my mind ", "refund-1")
    assert (whole.amount, whole.parent_transaction_id, whole.description) == (Decimal("19.90"), charge.id,
                                                                              "changed my mind")
    assert store.calls[-1] == ("refund_payment", "eu")
    with pytest.raises(InvalidArgument):
        service.refund_payment(charge.id, "1.00", "EUR", "", "refund-1")


def test_methods_are_validated_placed_and_paged(service, store, shard_map):
    user = an_id(shard_map, "na")
    made = [service.add_payment_method(user, "CARD", "visa", f"{n:04d}", 12, 2030, "Ana", "br", False,
                                       f"tok_{n}", "") for n in range(3)]
    assert set(store.calls) == {("add_payment_method", "na")}
    page, token = service.list_payment_methods(user, 2, "")
    rest, last = service.list_payment_methods(user, 2, token)
    assert [m.id for m in page + rest] == [m.id for m in made] and last == ""
    with pytest.raises(InvalidArgument) as caught:
        service.list_payment_methods(an_id(shard_map, "eu"), 2, token)
    assert fields(caught) == {"page_token"}
    with pytest.raises(InvalidArgument) as caught:
        service.add_payment_method(user, "CARD", "visa", "4242", 12, 2030, "Ana", "BR", False, "4242424242424242", "")
    assert fields(caught) == {"token"}


def test_reads_go_to_the_shard_their_id_names(service, store, shard_map):
    payment = pay(service, shard_map, "na")
    assert service.get_transaction(payment.transaction.id) == payment.transaction
    assert service.get_invoice(payment.invoice.id) == payment.invoice
    assert store.calls[-2:] == [("get_transaction", "na"), ("get_invoice", "na")]
    with pytest.raises(NotFound):
        service.get_transaction(an_id(shard_map, "apac", 77))
    with pytest.raises(InvalidArgument):
        service.get_invoice(12)


def test_transactions_page_by_created_at_then_id(service, shard_map):
    user = an_id(shard_map, "eu")
    made = [pay(service, shard_map, user_id=user, enrollment_id=an_id(shard_map, "eu", 10 + n),
                request_id=f"r{n}").transaction.id for n in range(5)]
    seen, token = [], ""
    while True:
        page, token = service.list_transactions(user, 2, token)
        seen += [t.id for t in page]
        if not token:
            break
    assert seen == made


def test_the_revenue_report_merges_shards_per_currency(service, store):
    store.revenue_rows = {
        "na": [CurrencyRevenue("USD", Decimal("10"), Decimal("1"), 1, 1, 0)],
        "eu": [CurrencyRevenue("EUR", Decimal("5"), Decimal("0"), 1, 0, 2),
               CurrencyRevenue("USD", Decimal("3"), Decimal("0"), 1, 0, 0)],
        "apac": [CurrencyRevenue("AUD", Decimal("7"), Decimal("7"), 1, 1, 0)]}
    report = service.revenue_report("REGION_UNSPECIFIED", NOW - timedelta(days=1), NOW)
    assert [(t.currency, t.gross, t.net, t.charge_count) for t in report.totals] == [
        ("AUD", Decimal("7"), Decimal("0"), 1), ("EUR", Decimal("5"), Decimal("5"), 1),
        ("USD", Decimal("13"), Decimal("12"), 2)]
    assert sorted(shard for _, shard in store.calls) == ["apac", "eu", "na"]
    store.calls.clear()
    europe = service.revenue_report("AFRICA", NOW - timedelta(days=1), NOW)
    assert store.calls == [("revenue", "eu")] and europe.region == "AFRICA"


@pytest.mark.parametrize("region, start, end, field", [
    ("", None, NOW, "start_time"), ("", NOW, None, "end_time"), ("", NOW, NOW, "end_time"),
    ("", NOW, NOW - timedelta(seconds=1), "end_time"), ("ATLANTIS", NOW - timedelta(days=1), NOW, "region"),
])
def test_the_revenue_report_rejects_bad_ranges_and_regions(service, store, region, start, end, field):
    with pytest.raises(InvalidArgument) as caught:
        service.revenue_report(region, start, end)
    assert field in fields(caught) and store.calls == []
