"""Refunds (never more than remains, the enrollment REFUNDED once all is returned), the revenue report gathered
from every shard or one region, and course_revenue, the per-course net the courses service will read."""
from __future__ import annotations

import uuid
from decimal import Decimal

import grpc
import pytest
from google.protobuf import timestamp_pb2

from elearning.common.v1 import common_pb2
from elearning.payments.v1 import payments_service_pb2 as pb
from shared import ids
from tests.integration.payments_client import STRONG, counts, money, payer, payment_state, published_course, stub
from tests.integration.users_client import error_info, field_violations


@pytest.fixture(scope="module")
def course(gateway_channel):
    return published_course(gateway_channel, "EUROPE", "30.00", "EUR")


def refund(channel, transaction_id: int, amount: str | None = None, currency: str = "EUR", **fields):
    request = pb.RefundPaymentRequest(**{"transaction_id": transaction_id, "request_id": str(uuid.uuid4()), **fields})
    if amount is not None:
        request.amount.CopyFrom(money(amount, currency))
    return stub(channel).RefundPayment(request, timeout=10)


def paid(channel, course, region: str = "EUROPE"):
    who = payer(channel, course, region)
    return who, stub(channel).CreatePayment(who.request(), timeout=10).transaction


def test_partial_then_full_refund_marks_the_enrollment_refunded(cluster, gateway_channel, course):
    who, charge = paid(gateway_channel, course)
    first = refund(gateway_channel, charge.id, "10.00", reason="late start")
    assert (first.kind, first.status, first.parent_transaction_id, first.amount.amount, first.description) == (
        pb.TRANSACTION_KIND_REFUND, pb.TRANSACTION_STATUS_SUCCEEDED, charge.id, "10.00", "late start")
    assert (first.enrollment_id, first.payment_method_id, first.user_id) == (
        charge.enrollment_id, charge.payment_method_id, charge.user_id)
    assert cluster.settings().shard_map.for_id(first.id).name == "eu"
    after_first = stub(gateway_channel).GetTransaction(pb.GetTransactionRequest(id=charge.id), timeout=5,
                                                       metadata=STRONG)
    assert after_first.refunded_amount.amount == "10.00" and payment_state(cluster, "eu", who.enrollment.id) == "PAID"
    rest = refund(gateway_channel, charge.id)  # no amount: all that remains
    assert rest.amount.amount == "20.00"
    after_all = stub(gateway_channel).GetTransaction(pb.GetTransactionRequest(id=charge.id), timeout=5,
                                                     metadata=STRONG)
    assert after_all.refunded_amount.amount == "30.00" and after_all.status == pb.TRANSACTION_STATUS_SUCCEEDED
    assert payment_state(cluster, "eu", who.enrollment.id) == "REFUNDED"


def test_a_refund_never_exceeds_what_remains_and_a_failed_one_writes_nothing(cluster, gateway_channel, course):
    _, charge = paid(gateway_channel, course)
    part = refund(gateway_channel, charge.id, "25.00")
    missing = ids.encode(ids.EPOCH_MS + 1, ids.decode(charge.id).shard_number, 1)
    cases = [  # (request arguments, code, field or reason)
        (dict(amount="5.01"), "INVALID_ARGUMENT", "amount.amount"),
        (dict(amount="5.00", currency="USD"), "INVALID_ARGUMENT", "amount.currency_code"),
        (dict(amount="1.001"), "INVALID_ARGUMENT", "amount.amount"),
        (dict(amount="0"), "INVALID_ARGUMENT", "amount.amount"),
        (dict(reason="x" * 501), "INVALID_ARGUMENT", "reason"),
        (dict(request_id=""), "INVALID_ARGUMENT", "request_id"),
        (dict(transaction_id=part.id), "FAILED_PRECONDITION", "NOT_A_SUCCEEDED_CHARGE"),
        (dict(transaction_id=missing), "NOT_FOUND", "NOT_FOUND"),
    ]
    before = counts(cluster)
    for arguments, code, where in cases:
        arguments = {"transaction_id": charge.id, **arguments}
        with pytest.raises(grpc.RpcError) as caught:
            refund(gateway_channel, **arguments)
        assert caught.value.code() == getattr(grpc.StatusCode, code), (arguments, caught.value.details())
        found = field_violations(caught.value) if code == "INVALID_ARGUMENT" else {error_info(caught.value).reason: 1}
        assert where in found, (arguments, found)
    assert counts(cluster) == before
    refund(gateway_channel, charge.id, "5.00")
    with pytest.raises(grpc.RpcError) as caught:
        refund(gateway_channel, charge.id, "0.01")
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(caught.value).reason == "ALREADY_REFUNDED"


def test_a_declined_charge_cannot_be_refunded(gateway_channel, course):
    who = payer(gateway_channel, course, "AFRICA", token="tok_insufficient_funds_1")
    declined = stub(gateway_channel).CreatePayment(who.request(), timeout=10).transaction
    assert declined.failure_reason == "insufficient_funds"
    with pytest.raises(grpc.RpcError) as caught:
        refund(gateway_channel, declined.id)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_a_repeated_refund_returns_the_first_and_refunds_once(cluster, gateway_channel, course):
    _, charge = paid(gateway_channel, course)
    request = pb.RefundPaymentRequest(transaction_id=charge.id, amount=money("7.50"), request_id=str(uuid.uuid4()))
    first = stub(gateway_channel).RefundPayment(request, timeout=10)
    assert stub(gateway_channel).RefundPayment(request, timeout=10) == first
    assert cluster.query("eu", "primary", "SELECT refunded_amount FROM transactions WHERE id = %s",
                         (charge.id,)) == [(Decimal("7.50"),)]
    request.amount.amount = "7.00"
    with pytest.raises(grpc.RpcError) as caught:
        stub(gateway_channel).RefundPayment(request, timeout=10)
    assert "request_id" in field_violations(caught.value)


def db_now(cluster) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(cluster.query("eu", "primary", "SELECT clock_timestamp()")[0][0])
    return stamp


def report(channel, start, end, region: int = common_pb2.REGION_UNSPECIFIED) -> dict[str, tuple]:
    got = stub(channel).GetRevenueReport(pb.GetRevenueReportRequest(region=region, start_time=start, end_time=end),
                                         timeout=10, metadata=STRONG)
    assert [t.currency_code for t in got.totals] == sorted(t.currency_code for t in got.totals)
    return {t.currency_code: (t.gross_amount.amount, t.refunded_amount.amount, t.net_amount.amount, t.charge_count,
                              t.refund_count, t.failed_count) for t in got.totals}


def test_the_revenue_report_sums_every_shard_per_currency_or_one_region(cluster, gateway_channel, course):
    brl = published_course(gateway_channel, "ASIA", "50.00", "BRL")
    start = db_now(cluster)
    _, eur_charge = paid(gateway_channel, course, "EUROPE")       # eu shard
    paid(gateway_channel, course, "AFRICA")                        # eu shard, other region
    _, brl_charge = paid(gateway_channel, brl, "NORTH_AMERICA")   # na shard
    paid(gateway_channel, brl, "OCEANIA")                          # apac shard
    refund(gateway_channel, eur_charge.id, "5.00")
    refund(gateway_channel, brl_charge.id, "50.00", currency="BRL")
    declined = payer(gateway_channel, brl, "ASIA", token="tok_decline_x")
    stub(gateway_channel).CreatePayment(declined.request(), timeout=10)
    end = db_now(cluster)
    assert report(gateway_channel, start, end) == {
        "EUR": ("60.00", "5.00", "55.00", 2, 1, 0), "BRL": ("100.00", "50.00", "50.00", 2, 1, 1)}
    assert report(gateway_channel, start, end, common_pb2.REGION_EUROPE) == {"EUR": ("30.00", "5.00", "25.00", 1, 1, 0)}
    assert report(gateway_channel, start, end, common_pb2.REGION_ASIA) == {"BRL": ("0.00", "0.00", "0.00", 0, 0, 1)}
    assert report(gateway_channel, end, db_now(cluster)) == {}


def test_the_revenue_report_needs_an_ordered_range(gateway_channel):
    stamp = timestamp_pb2.Timestamp(seconds=1_800_000_000)
    for start, end, field in ((None, stamp, "start_time"), (stamp, None, "end_time"), (stamp, stamp, "end_time")):
        with pytest.raises(grpc.RpcError) as caught:
            stub(gateway_channel).GetRevenueReport(pb.GetRevenueReportRequest(start_time=start, end_time=end),
                                                   timeout=5)
        assert field in field_violations(caught.value)


def test_course_revenue_nets_refunds_per_course(cluster, gateway_channel):
    course = published_course(gateway_channel, "SOUTH_AMERICA", "12.50", "USD")
    _, first = paid(gateway_channel, course, "EUROPE")
    paid(gateway_channel, course, "AFRICA")
    refund(gateway_channel, first.id, "2.50", currency="USD")
    rows = cluster.query("eu", "primary", "SELECT * FROM course_revenue(%s)", ([course.id, 1],))
    assert rows == [(course.id, "USD", Decimal("25.00"), Decimal("2.50"), Decimal("22.50"), 2)]
    assert cluster.query("na", "primary", "SELECT * FROM course_revenue(%s)", ([course.id],)) == []
