"""The gRPC edge of the payments service: proto ↔ domain, nothing else."""
from __future__ import annotations

from decimal import Decimal

from google.protobuf import empty_pb2

from elearning.common.v1 import common_pb2
from elearning.payments.v1 import payments_service_pb2 as pb
from elearning.payments.v1 import payments_service_pb2_grpc as pb_grpc
from services.payments.domain import CurrencyRevenue, Invoice, PaymentMethod, RevenueReport, Transaction
from services.payments.service import PaymentService
from shared import validation
from shared.errors import Violations
from shared.money import format_amount
from shared.proto_values import enum_name, enum_value, region_name, region_value, timestamp


def money(amount: Decimal, currency: str) -> common_pb2.Money:
    return common_pb2.Money(currency_code=currency, amount=format_amount(amount))


def method_proto(m: PaymentMethod) -> pb.PaymentMethod:
    return pb.PaymentMethod(id=m.id, user_id=m.user_id, kind=enum_value(pb.PaymentMethodKind, m.kind),
                            card_brand=m.card_brand, last4=m.last4, exp_month=m.exp_month, exp_year=m.exp_year,
                            billing_name=m.billing_name, country_code=m.country_code, is_default=m.is_default,
                            create_time=timestamp(m.created_at))


def transaction_proto(t: Transaction) -> pb.Transaction:
    return pb.Transaction(
        id=t.id, user_id=t.user_id, region=region_value(t.region), enrollment_id=t.enrollment_id,
        payment_method_id=t.payment_method_id, kind=enum_value(pb.TransactionKind, t.kind),
        status=enum_value(pb.TransactionStatus, t.status), amount=money(t.amount, t.currency),
        refunded_amount=money(t.refunded_amount, t.currency), parent_transaction_id=t.parent_transaction_id,
        description=t.description, failure_reason=t.failure_reason, create_time=timestamp(t.created_at),
        update_time=timestamp(t.updated_at))


def invoice_proto(i: Invoice) -> pb.Invoice:
    return pb.Invoice(
        id=i.id, transaction_id=i.transaction_id, user_id=i.user_id, invoice_number=i.invoice_number,
        line_items=[pb.InvoiceLineItem(description=line.description, quantity=line.quantity,
                                       unit_price=money(line.unit_price, i.currency),
                                       total=money(line.total, i.currency)) for line in i.lines],
        subtotal=money(i.subtotal, i.currency), tax=money(i.tax, i.currency), total=money(i.total, i.currency),
        billing_name=i.billing_name, country_code=i.country_code, issue_time=timestamp(i.issued_at))


def _revenue_proto(r: CurrencyRevenue) -> pb.CurrencyRevenue:
    return pb.CurrencyRevenue(currency_code=r.currency, gross_amount=money(r.gross, r.currency),
                              refunded_amount=money(r.refunded, r.currency), net_amount=money(r.net, r.currency),
                              charge_count=r.charge_count, refund_count=r.refund_count, failed_count=r.failed_count)


def report_proto(r: RevenueReport) -> pb.RevenueReport:
    return pb.RevenueReport(region=region_value(r.region), start_time=timestamp(r.start),
                            end_time=timestamp(r.end), totals=[_revenue_proto(t) for t in r.totals])


class PaymentApi(pb_grpc.PaymentServiceServicer):
    def __init__(self, service: PaymentService):
        self.service = service

    def AddPaymentMethod(self, request, context):
        m = request.payment_method
        return method_proto(self.service.add_payment_method(
            m.user_id, enum_name(pb.PaymentMethodKind, m.kind, "payment_method.kind"), m.card_brand, m.last4,
            m.exp_month, m.exp_year, m.billing_name, m.country_code, m.is_default, request.token,
            request.request_id))

    def ListPaymentMethods(self, request, context):
        rows, token = self.service.list_payment_methods(request.user_id, request.page_size, request.page_token)
        return pb.ListPaymentMethodsResponse(payment_methods=[method_proto(m) for m in rows], next_page_token=token)

    def DeletePaymentMethod(self, request, context):
        self.service.delete_payment_method(request.id)
        return empty_pb2.Empty()

    def CreatePayment(self, request, context):
        payment = self.service.create_payment(request.user_id, request.enrollment_id, request.payment_method_id,
                                              request.amount.amount, request.amount.currency_code,
                                              request.description, request.request_id)
        return pb.CreatePaymentResponse(transaction=transaction_proto(payment.transaction),
                                        invoice=invoice_proto(payment.invoice) if payment.invoice else None)

    def GetTransaction(self, request, context):
        return transaction_proto(self.service.get_transaction(request.id))

    def ListTransactions(self, request, context):
        rows, token = self.service.list_transactions(request.user_id, request.page_size, request.page_token)
        return pb.ListTransactionsResponse(transactions=[transaction_proto(t) for t in rows], next_page_token=token)

    def GetInvoice(self, request, context):
        return invoice_proto(self.service.get_invoice(request.id))

    def RefundPayment(self, request, context):
        amount = request.amount if request.HasField("amount") else None
        return transaction_proto(self.service.refund_payment(
            request.transaction_id, amount.amount if amount else None, amount.currency_code if amount else None,
            request.reason, request.request_id))

    def GetRevenueReport(self, request, context):
        violations = Violations()
        times = [validation.timestamp(getattr(request, name), name, violations) if request.HasField(name) else None
                 for name in ("start_time", "end_time")]
        violations.raise_if_any()
        start, end = times
        return report_proto(self.service.revenue_report(region_name(request.region), start, end))
