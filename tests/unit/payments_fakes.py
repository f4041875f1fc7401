"""An in-memory fake of the payments store (`PaymentStore`) for unit tests of the service's rules.

It records which shard each call went to and replays idempotency keys like `shared.idempotency.claim`; writes
take the service's unit of work (`tests/unit/fake_units.FakeUnitsOfWork`), which undoes them when the body
raises. An enrollment a test did not set is an unpaid one at the charge's price; `take_payment` refuses one
that is cancelled or paid as the schema's function does. Refund limits are the integration tests' job.
"""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.payments.domain import (
    Charge,
    CurrencyRevenue,
    HeldEnrollment,
    Invoice,
    InvoiceLine,
    NewPaymentMethod,
    Payment,
    PaymentMethod,
    Position,
    Refund,
    StoredMethod,
    Transaction,
)
from shared import ids
from shared.errors import FailedPrecondition
from shared.sharding import ShardMap
from tests.unit.fake_keys import FakeKeys
from tests.unit.fake_units import FakeUnitOfWork

START = datetime(2026, 3, 1, tzinfo=UTC)


class FakePaymentStore:
    def __init__(self, shard_map: ShardMap):
        self.shard_map = shard_map
        self.calls: list[tuple[str, str]] = []
        self.keys = {name: FakeKeys() for name in shard_map.names}
        self.enrollments: dict[int, HeldEnrollment] = {}
        self.methods: dict[int, PaymentMethod] = {}
        self.transactions: dict[int, Transaction] = {}
        self.invoices: dict[int, Invoice] = {}
        self.revenue_rows: dict[str, list[CurrencyRevenue]] = {}
        self.on_file = StoredMethod(kind="CARD", token="tok_ok", exp_month=12, exp_year=2099)
        self._clock = START
        self._sequence = 0

    def _new(self, shard: str) -> tuple[int, datetime]:
        self._sequence += 1
        self._clock += timedelta(seconds=1)
        number = self.shard_map.by_name(shard).number
        return ids.encode(int(self._clock.timestamp() * 1000), number, self._sequence), self._clock

    def add_payment_method(self, tx: FakeUnitOfWork, method: NewPaymentMethod, token: str, request_id: str,
                           fingerprint: bytes) -> PaymentMethod:
        self.calls.append(("add_payment_method", tx.shard))
        method_id, now = self._new(tx.shard)
        replay = self.keys[tx.shard].claim("payments.AddPaymentMethod", request_id, fingerprint, method_id)
        if replay:
            return self.methods[replay.resource_id]
        made = PaymentMethod(id=method_id, created_at=now, **{**dataclasses.asdict(method),
                                                              "exp_month": method.exp_month or 0,
                                                              "exp_year": method.exp_year or 0})
        self.methods[method_id] = made
        return made

    def list_payment_methods(self, shard: str, user_id: int, after: Position | None,
                             limit: int) -> list[PaymentMethod]:
        self.calls.append(("list_payment_methods", shard))
        rows = sorted((m for m in self.methods.values() if m.user_id == user_id), key=lambda m: (m.created_at, m.id))
        return [m for m in rows if after is None or (m.created_at, m.id) > after][:limit]

    def delete_payment_method(self, tx: FakeUnitOfWork, method_id: int, owner: int | None = None) -> None:
        self.calls.append(("delete_payment_method", tx.shard))
        self.methods.pop(method_id)

    def begin_payment(self, tx: FakeUnitOfWork, request_id: str, fingerprint: bytes) -> tuple[int, int | None]:
        self.calls.append(("begin_payment", tx.shard))
        transaction_id, _ = self._new(tx.shard)
        replay = self.keys[tx.shard].claim("payments.CreatePayment", request_id, fingerprint, transaction_id)
        return transaction_id, replay.resource_id if replay else None

    def hold_enrollment(self, tx: FakeUnitOfWork, charge: Charge) -> HeldEnrollment | None:
        self.calls.append(("hold_enrollment", tx.shard))
        return self.enrollments.get(charge.enrollment_id,
                                    HeldEnrollment(1, "ACTIVE", "UNPAID", charge.amount, charge.currency))

    def method_on_file(self, tx: FakeUnitOfWork, charge: Charge) -> StoredMethod | None:
        self.calls.append(("method_on_file", tx.shard))
        return self.on_file

    def take_payment(self, tx: FakeUnitOfWork, transaction_id: int, charge: Charge, failure: str) -> Payment:
        self.calls.append(("take_payment", tx.shard))
        held = self.hold_enrollment(tx, charge)
        self.calls.pop()
        if held is None or held.state == "CANCELLED" or held.payment_state != "UNPAID":
            raise FailedPrecondition(f"enrollment {charge.enrollment_id} cannot be paid",
                                     reason="ENROLLMENT_CANCELLED" if held and held.state == "CANCELLED"
                                     else "ENROLLMENT_NOT_UNPAID")
        now = self._new(tx.shard)[1]
        transaction = Transaction(
            id=transaction_id, user_id=charge.user_id, region="EUROPE", enrollment_id=charge.enrollment_id,
            payment_method_id=charge.payment_method_id, kind="CHARGE", status="FAILED" if failure else "SUCCEEDED",
            amount=charge.amount, currency=charge.currency, refunded_amount=Decimal("0.00"),
            parent_transaction_id=0, description=charge.description, failure_reason=failure, created_at=now,
            updated_at=now)
        self.transactions[transaction_id] = transaction
        if not failure:
            invoice_id, _ = self._new(tx.shard)
            self.invoices[invoice_id] = Invoice(
                id=invoice_id, transaction_id=transaction_id, user_id=charge.user_id,
                invoice_number=f"INV-2026-02-{len(self.invoices) + 1:06d}", currency=charge.currency,
                lines=(InvoiceLine(charge.description, 1, charge.amount),), tax=Decimal("0.00"), billing_name="Ana",
                country_code="FR", issued_at=now)
            self.enrollments[charge.enrollment_id] = dataclasses.replace(held, payment_state="PAID")
        return self.payment(tx, transaction_id)

    def payment(self, tx: FakeUnitOfWork, transaction_id: int) -> Payment:
        invoice = next((i for i in self.invoices.values() if i.transaction_id == transaction_id), None)
        return Payment(self.transactions[transaction_id], invoice)

    def get_transaction(self, shard: str, transaction_id: int) -> Transaction | None:
        self.calls.append(("get_transaction", shard))
        return self.transactions.get(transaction_id)

    def list_transactions(self, shard: str, user_id: int, after: Position | None, limit: int) -> list[Transaction]:
        self.calls.append(("list_transactions", shard))
        rows = sorted((t for t in self.transactions.values() if t.user_id == user_id),
                      key=lambda t: (t.created_at, t.id))
        return [t for t in rows if after is None or (t.created_at, t.id) > after][:limit]

    def get_invoice(self, shard: str, invoice_id: int) -> Invoice | None:
        self.calls.append(("get_invoice", shard))
        return self.invoices.get(invoice_id)

    def refund_payment(self, tx: FakeUnitOfWork, refund: Refund, request_id: str, fingerprint: bytes) -> Transaction:
        self.calls.append(("refund_payment", tx.shard))
        refund_id, now = self._new(tx.shard)
        replay = self.keys[tx.shard].claim("payments.RefundPayment", request_id, fingerprint, refund_id)
        if replay:
            return self.transactions[replay.resource_id]
        charge = self.transactions[refund.transaction_id]
        made = dataclasses.replace(charge, id=refund_id, kind="REFUND", parent_transaction_id=charge.id,
                                   amount=refund.amount or charge.amount - charge.refunded_amount,
                                   description=refund.reason, created_at=now, updated_at=now)
        self.transactions[refund_id] = made
        return made

    def revenue(self, shard: str, region: str | None, start: datetime, end: datetime) -> list[CurrencyRevenue]:
        self.calls.append(("revenue", shard))
        return self.revenue_rows.get(shard, [])


class OpenCourses:
    """A courses service for which every course is open."""

    def check_open(self, course_id: int) -> None:
        return None
