"""CreatePayment on the real cluster: everything on the payer's shard, the charge, invoice and PAID enrollment
written together or not at all, declines, idempotency (50 concurrent duplicates charge once), and the
transactions listed a keyset page at a time."""
from __future__ import annotations

import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from elearning.enrollments.v1 import enrollments_service_pb2 as enrollments_pb
from elearning.payments.v1 import payments_service_pb2 as pb
from tests.integration.payments_client import (
    STRONG,
    add_card,
    counts,
    enrollments,
    payer,
    payment_state,
    published_course,
    stub,
)
from tests.integration.users_client import error_info, field_violations


@pytest.fixture(scope="module")
def course(gateway_channel):
    """An APAC course: its EU students' payments must still stay on eu."""
    return published_course(gateway_channel, "OCEANIA", "19.99", "EUR")


def test_a_payment_writes_charge_invoice_and_paid_enrollment_on_the_payers_shard_only(cluster, gateway_channel,
                                                                                      course):
    who = payer(gateway_channel, course, "EUROPE")
    before = counts(cluster)
    made = stub(gateway_channel).CreatePayment(who.request(), timeout=10)
    charge, invoice = made.transaction, made.invoice
    assert (charge.kind, charge.status, charge.amount.amount, charge.amount.currency_code) == (
        pb.TRANSACTION_KIND_CHARGE, pb.TRANSACTION_STATUS_SUCCEEDED, "19.99", "EUR")
    assert charge.refunded_amount.amount == "0.00" and charge.user_id == who.user.id
    assert re.fullmatch(r"INV-\d{4}-\d{2}-\d{6}", invoice.invoice_number), invoice.invoice_number
    assert (invoice.transaction_id, invoice.total, invoice.subtotal, invoice.tax.amount) == (
        charge.id, charge.amount, charge.amount, "0.00")
    assert [(line.quantity, line.unit_price.amount, line.total.amount) for line in invoice.line_items] == [
        (1, "19.99", "19.99")]
    assert (invoice.billing_name, invoice.country_code) == ("Ana Lima", "FR")
    after = counts(cluster)
    assert after["eu"][:5] == tuple(n + d for n, d in zip(before["eu"][:5], (1, 1, 1, 1, 1), strict=True))
    assert after["na"] == before["na"] and after["apac"] == before["apac"]
    assert payment_state(cluster, "eu", who.enrollment.id) == "PAID"
    shard_map = cluster.settings().shard_map
    assert {shard_map.for_id(i).name for i in (charge.id, invoice.id)} == {"eu"}
    assert stub(gateway_channel).GetTransaction(pb.GetTransactionRequest(id=charge.id), timeout=5) == charge
    assert stub(gateway_channel).GetInvoice(pb.GetInvoiceRequest(id=invoice.id), timeout=5) == invoice


def test_a_declined_charge_is_recorded_failed_with_no_invoice(cluster, gateway_channel, course):
    who = payer(gateway_channel, course, "AFRICA", token="tok_decline_do_not_honor")
    declined = stub(gateway_channel).CreatePayment(who.request(), timeout=10)
    assert declined.transaction.status == pb.TRANSACTION_STATUS_FAILED
    assert declined.transaction.failure_reason == "card_declined"
    assert not declined.HasField("invoice")
    assert payment_state(cluster, "eu", who.enrollment.id) == "UNPAID"
    good = add_card(gateway_channel, who.user.id, token="tok_visa_ok")
    paid = stub(gateway_channel).CreatePayment(who.request(payment_method_id=good.id), timeout=10)
    assert paid.transaction.status == pb.TRANSACTION_STATUS_SUCCEEDED and paid.HasField("invoice")
    assert payment_state(cluster, "eu", who.enrollment.id) == "PAID"


# name → (request overrides, expected code, field or reason)
FAILING = {
    "amount below the price": (dict(amount="9.99"), "INVALID_ARGUMENT", "amount.amount"),
    "other currency": (dict(currency="USD"), "INVALID_ARGUMENT", "amount.currency_code"),
    "three decimals": (dict(amount="19.999"), "INVALID_ARGUMENT", "amount.amount"),
    "zero": (dict(amount="0"), "INVALID_ARGUMENT", "amount.amount"),
    "negative": (dict(amount="-19.99"), "INVALID_ARGUMENT", "amount.amount"),
    "unknown currency": (dict(currency="XYZ"), "INVALID_ARGUMENT", "amount.currency_code"),
    "blank description": (dict(description="  "), "INVALID_ARGUMENT", "description"),
    "no request_id": (dict(request_id=""), "INVALID_ARGUMENT", "request_id"),
    "malformed enrollment": (dict(enrollment_id=5), "INVALID_ARGUMENT", "enrollment_id"),
    "someone else's enrollment": ("other_enrollment", "FAILED_PRECONDITION", "ENROLLMENT_NOT_FOUND"),
    "someone else's card": ("other_card", "FAILED_PRECONDITION", "PAYMENT_METHOD_NOT_FOUND"),
    "deleted card": ("deleted_card", "FAILED_PRECONDITION", "PAYMENT_METHOD_NOT_FOUND"),
    "cancelled enrollment": ("cancelled", "FAILED_PRECONDITION", "ENROLLMENT_CANCELLED"),
}


def _failing_request(gateway_channel, course, who, overrides):
    if overrides == "other_enrollment":
        return who.request(enrollment_id=payer(gateway_channel, course, "EUROPE").enrollment.id)
    if overrides == "other_card":
        return who.request(payment_method_id=payer(gateway_channel, course, "EUROPE").card.id)
    if overrides == "deleted_card":
        stub(gateway_channel).DeletePaymentMethod(pb.DeletePaymentMethodRequest(id=who.card.id), timeout=5)
        return who.request()
    if overrides == "cancelled":
        enrollments(gateway_channel).CancelEnrollment(enrollments_pb.CancelEnrollmentRequest(id=who.enrollment.id),
                                                      timeout=5)
        return who.request()
    return who.request(**overrides)


@pytest.mark.parametrize("case", sorted(FAILING))
def test_a_failing_payment_writes_nothing(cluster, gateway_channel, course, case):
    overrides, code, where = FAILING[case]
    who = payer(gateway_channel, course, "EUROPE")
    request = _failing_request(gateway_channel, course, who, overrides)
    before = counts(cluster)
    with pytest.raises(grpc.RpcError) as caught:
        stub(gateway_channel).CreatePayment(request, timeout=10)
    assert caught.value.code() == getattr(grpc.StatusCode, code), caught.value.details()
    if code == "INVALID_ARGUMENT":
        assert where in field_violations(caught.value), field_violations(caught.value)
    else:
        assert error_info(caught.value).reason == where
    assert counts(cluster) == before
    assert payment_state(cluster, "eu", who.enrollment.id) == "UNPAID"


def test_a_paid_enrollment_cannot_be_paid_again(cluster, gateway_channel, course):
    who = payer(gateway_channel, course, "EUROPE")
    stub(gateway_channel).CreatePayment(who.request(), timeout=10)
    before = counts(cluster)
    with pytest.raises(grpc.RpcError) as caught:
        stub(gateway_channel).CreatePayment(who.request(), timeout=10)  # a new request_id
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(caught.value).reason == "ENROLLMENT_NOT_UNPAID"
    assert counts(cluster) == before


def test_a_repeated_request_returns_the_first_result_and_a_reused_key_is_invalid(cluster, gateway_channel, course):
    who = payer(gateway_channel, course, "ASIA")
    request = who.request()
    first = stub(gateway_channel).CreatePayment(request, timeout=10)
    assert stub(gateway_channel).CreatePayment(request, timeout=10) == first
    request.description = "something else"
    with pytest.raises(grpc.RpcError) as caught:
        stub(gateway_channel).CreatePayment(request, timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "request_id" in field_violations(caught.value)
    assert cluster.query("apac", "primary", "SELECT count(*) FROM transactions WHERE enrollment_id = %s",
                         (who.enrollment.id,)) == [(1,)]


def test_fifty_concurrent_identical_payments_charge_once(cluster, gateway_channel, course):
    who = payer(gateway_channel, course, "EUROPE")
    request = who.request()
    barrier = threading.Barrier(50)

    def pay(_):
        barrier.wait()
        return stub(gateway_channel).CreatePayment(request, timeout=30)

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(pay, range(50)))
    assert all(r == responses[0] for r in responses)
    assert responses[0].transaction.status == pb.TRANSACTION_STATUS_SUCCEEDED and responses[0].HasField("invoice")
    assert cluster.query("eu", "primary", "SELECT count(*), min(id) FROM transactions WHERE enrollment_id = %s",
                         (who.enrollment.id,)) == [(1, responses[0].transaction.id)]
    assert cluster.query("eu", "primary", "SELECT count(*) FROM invoices WHERE transaction_id = %s",
                         (responses[0].transaction.id,)) == [(1,)]


def test_list_transactions_pages_by_keyset_without_gaps_or_duplicates(gateway_channel, course):
    who = payer(gateway_channel, course, "NORTH_AMERICA", token="tok_decline_generic")
    made = [stub(gateway_channel).CreatePayment(who.request(), timeout=10).transaction.id for _ in range(3)]
    good = add_card(gateway_channel, who.user.id)
    charge = stub(gateway_channel).CreatePayment(who.request(payment_method_id=good.id), timeout=10).transaction
    refund = stub(gateway_channel).RefundPayment(pb.RefundPaymentRequest(
        transaction_id=charge.id, request_id=str(uuid.uuid4())), timeout=10)
    made += [charge.id, refund.id]
    seen, token = [], ""
    while True:
        page = stub(gateway_channel).ListTransactions(pb.ListTransactionsRequest(
            user_id=who.user.id, page_size=2, page_token=token), timeout=5, metadata=STRONG)
        assert len(page.transactions) <= 2
        seen += [t.id for t in page.transactions]
        token = page.next_page_token
        if not token:
            break
    assert seen == made
