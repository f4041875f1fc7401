"""An in-memory fake of the payments store (`PaymentStore`) for unit tests of the service's rules.

It records which shard each call went to, replays idempotency keys like `shared.idempotency.claim`, and asks
the processor about charges as `PgPaymentStore` does. The rules the schema enforces (enrollment state, refund
limits) are the integration tests' job.
"""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.payments.domain import (
    Authorize,
    Charge,
    CurrencyRevenue,
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
from shared.errors import InvalidArgument
from shared.sharding import ShardMap

START = datetime(2026, 3, 1, tzinfo=UTC)


class FakePaymentStore:
    def __init__(self, shard_map: ShardMap):
        self.shard_map = shard_map
        self.calls: list[tuple[str, str]] = []
        self.keys: dict[tuple[str, str], tuple[bytes, object]] = {}
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

    def _replay(self, method: str, request_id: str, fingerprint: bytes):
        if not request_id or (method, request_id) not in self.keys:
            return None
        stored, result = self.keys[(method, request_id)]
        if stored != fingerprint:
            raise InvalidArgument("request_id", "was already used by a request with different parameters",
                                  reason="REQUEST_ID_REUSED")
        return result

    def _remember(self, method: str, request_id: str, fingerprint: bytes, result):
        if request_id:
            self.keys[(method, request_id)] = (fingerprint, result)
        return result

    def add_payment_method(self, shard: str, method: NewPaymentMethod, token: str, request_id: str,
                           fingerprint: bytes) -> PaymentMethod:
        self.calls.append(("add_payment_method", shard))
        replay = self._replay("add", request_id, fingerprint)
        if replay:
            return replay
        method_id, now = self._new(shard)
        made = PaymentMethod(id=method_id, created_at=now, **{**dataclasses.asdict(method),
                                                              "exp_month": method.exp_month or 0,
                                                              "exp_year": method.exp_year or 0})
        self.methods[method_id] = made
        return self._remember("add", request_id, fingerprint, made)

    def list_payment_methods(self, shard: str, user_id: int, after: Position | None,
                             limit: int) -> list[PaymentMethod]:
        self.calls.append(("list_payment_methods", shard))
        rows = sorted((m for m in self.methods.values() if m.user_id == user_id), key=lambda m: (m.created_at, m.id))
        return [m for m in rows if after is None or (m.created_at, m.id) > after][:limit]

    def delete_payment_method(self, shard: str, method_id: int, owner: int | None = None) -> None:
        self.calls.append(("delete_payment_method", shard))
        self.methods.pop(method_id)

    def create_payment(self, shard: str, charge: Charge, request_id: str, fingerprint: bytes,
                       authorize: Authorize, check_course) -> Payment:
        self.calls.append(("create_payment", shard))
        replay = self._replay("pay", request_id, fingerprint)
        if replay:
            return replay
        failure = authorize(self.on_file, charge.amount, charge.currency)
        transaction_id, now = self._new(shard)
        transaction = Transaction(
            id=transaction_id, user_id=charge.user_id, region="EUROPE", enrollment_id=charge.enrollment_id,
            payment_method_id=charge.payment_method_id, kind="CHARGE", status="FAILED" if failure else "SUCCEEDED",
            amount=charge.amount, currency=charge.currency, refunded_amount=Decimal("0.00"),
            parent_transaction_id=0, description=charge.description, failure_reason=failure, created_at=now,
            updated_at=now)
        self.transactions[transaction_id] = transaction
        invoice = None
        if not failure:
            invoice_id, _ = self._new(shard)
            invoice = Invoice(id=invoice_id, transaction_id=transaction_id, user_id=charge.user_id,
                              invoice_number=f"INV-2026-02-{len(self.invoices) + 1:06d}", currency=charge.currency,
                              lines=(InvoiceLine(charge.description, 1, charge.amount),), tax=Decimal("0.00"),
                              billing_name="Ana", country_code="FR", issued_at=now)
            self.invoices[invoice_id] = invoice
        return self._remember("pay", request_id, fingerprint, Payment(transaction, invoice))

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

    def refund_payment(self, shard: str, refund: Refund, request_id: str, fingerprint: bytes) -> Transaction:
        self.calls.append(("refund_payment", shard))
        replay = self._replay("refund", request_id, fingerprint)
        if replay:
            return replay
        charge = self.transactions[refund.transaction_id]
        refund_id, now = self._new(shard)
        made = dataclasses.replace(charge, id=refund_id, kind="REFUND", parent_transaction_id=charge.id,
                                   amount=refund.amount or charge.amount - charge.refunded_amount,
                                   description=refund.reason, created_at=now, updated_at=now)
        self.transactions[refund_id] = made
        return self._remember("refund", request_id, fingerprint, made)

    def revenue(self, shard: str, region: str | None, start: datetime, end: datetime) -> list[CurrencyRevenue]:
        self.calls.append(("revenue", shard))
        return self.revenue_rows.get(shard, [])


class OpenCourses:
    """A courses service for which every course is open."""

    def check_open(self, course_id: int) -> None:
        return None
