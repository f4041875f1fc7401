"""PostgreSQL storage of payments: every row of a payment on the payer's shard, written through the schema's
functions (sql/migrations/0006_payments.sql) in the service's unit of work."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

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
from shared import idempotency
from shared.errors import NotFound
from shared.pg.pools import ShardPools
from shared.pg.unit_of_work import PgUnitOfWork

ADD_METHOD = "payments.AddPaymentMethod"
CREATE_PAYMENT = "payments.CreatePayment"
REFUND_PAYMENT = "payments.RefundPayment"
METHOD_SELECT = ("SELECT id, user_id, kind, card_brand, last4, coalesce(exp_month, 0), coalesce(exp_year, 0), "
                 "billing_name, country_code, is_default, created_at FROM payment_methods")
TRANSACTION_SELECT = (
    "SELECT t.id, t.user_id, u.region, t.enrollment_id, t.payment_method_id, t.kind, t.status, t.amount, "
    "t.currency, t.refunded_amount, coalesce(t.parent_transaction_id, 0), t.description, t.failure_reason, "
    "t.created_at, t.updated_at FROM transactions t JOIN users u ON u.id = t.user_id")
INVOICE_SELECT = ("SELECT i.id, i.transaction_id, t.user_id, i.invoice_number, t.currency, i.tax, i.billing_name, "
                  "i.country_code, i.issued_at FROM invoices i JOIN transactions t ON t.id = i.transaction_id")

Found = TypeVar("Found")


class PgPaymentStore:
    def __init__(self, pools: ShardPools):
        self.pools = pools

    def _read(self, shard: str, fetch: Callable[[object], Found]) -> Found:
        return self.pools.read_one(shard, fetch)

    # ---- payment methods -----------------------------------------------------------------------
    @staticmethod
    def _method(cur, method_id: int) -> PaymentMethod:
        cur.execute(METHOD_SELECT + " WHERE id = %s", (method_id,))
        row = cur.fetchone()
        if row is None:
            raise NotFound("payment method", method_id)
        return PaymentMethod(*row)

    def add_payment_method(self, tx: PgUnitOfWork, method: NewPaymentMethod, token: str, request_id: str,
                           fingerprint: bytes) -> PaymentMethod:
        cur = tx.cursor()
        method_id, replay = idempotency.begin_create(cur, ADD_METHOD, request_id, fingerprint)
        if replay:
            return self._method(cur, replay.resource_id)
        cur.execute("SELECT add_payment_method(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (method_id, method.user_id, method.kind, method.card_brand, method.last4, method.exp_month,
                     method.exp_year, method.billing_name, method.country_code, token, method.is_default))
        return self._method(cur, method_id)

    def list_payment_methods(self, shard: str, user_id: int, after: Position | None, limit: int) -> list[PaymentMethod]:
        where, params = ("AND (created_at, id) > (%s, %s)", after) if after else ("", ())
        with self.pools.read(shard) as cur:
            cur.execute(f"{METHOD_SELECT} WHERE user_id = %s AND deleted_at IS NULL {where} "
                        "ORDER BY created_at, id LIMIT %s", (user_id, *params, limit))
            return [PaymentMethod(*r) for r in cur.fetchall()]

    def delete_payment_method(self, tx: PgUnitOfWork, method_id: int, owner: int | None = None) -> None:
        """`owner`: the only user whose card this may be (a student's call); someone else's is not found."""
        cur = tx.cursor()
        if owner is not None:
            cur.execute("SELECT 1 FROM payment_methods WHERE id = %s AND user_id = %s AND deleted_at IS NULL",
                        (method_id, owner))
            if cur.fetchone() is None:
                raise NotFound("payment method", method_id)
        cur.execute("SELECT delete_payment_method(%s)", (method_id,))

    # ---- charges and refunds -------------------------------------------------------------------
    def begin_payment(self, tx: PgUnitOfWork, request_id: str, fingerprint: bytes) -> tuple[int, int | None]:
        """The new charge's ID and, when `request_id` was used before, the charge it made. A concurrent duplicate
        waits here on the key until the first commits, then replays it."""
        transaction_id, replay = idempotency.begin_create(tx.cursor(), CREATE_PAYMENT, request_id, fingerprint)
        return transaction_id, replay.resource_id if replay else None

    def hold_enrollment(self, tx: PgUnitOfWork, charge: Charge) -> HeldEnrollment | None:
        """The payer's enrollment, its row locked until the unit of work ends (a concurrent charge of it with
        another request_id waits here, then finds it paid); None when the payer has no such enrollment."""
        cur = tx.cursor()
        cur.execute("SELECT course_id, state, payment_state, course_price, course_currency FROM enrollments "
                    "WHERE id = %s AND student_id = %s FOR NO KEY UPDATE", (charge.enrollment_id, charge.user_id))
        row = cur.fetchone()
        return HeldEnrollment(*row) if row else None

    def method_on_file(self, tx: PgUnitOfWork, charge: Charge) -> StoredMethod | None:
        """What the processor needs of the payer's method, or None when the payer has no such method."""
        cur = tx.cursor()
        cur.execute("SELECT kind, vault_token, coalesce(exp_month, 0), coalesce(exp_year, 0) FROM payment_methods "
                    "WHERE id = %s AND user_id = %s AND deleted_at IS NULL", (charge.payment_method_id, charge.user_id))
        row = cur.fetchone()
        return StoredMethod(*row) if row else None

    def take_payment(self, tx: PgUnitOfWork, transaction_id: int, charge: Charge, failure: str) -> Payment:
        """Records the charge (FAILED with `failure`, else SUCCEEDED with its invoice, the enrollment PAID); when
        the enrollment or the method cannot be charged, the schema names the broken rule."""
        cur = tx.cursor()
        cur.execute("SELECT take_payment(%s, %s, %s, %s, %s, %s, %s, %s)",
                    (transaction_id, charge.user_id, charge.enrollment_id, charge.payment_method_id, charge.amount,
                     charge.currency, charge.description, failure))
        return self._payment(cur, transaction_id)

    def payment(self, tx: PgUnitOfWork, transaction_id: int) -> Payment:
        return self._payment(tx.cursor(), transaction_id)

    def _payment(self, cur, transaction_id: int) -> Payment:
        transaction = self._transaction(cur, transaction_id)
        if transaction is None:
            raise NotFound("transaction", transaction_id)
        return Payment(transaction, self._invoice(cur, "i.transaction_id", transaction_id))

    def refund_payment(self, tx: PgUnitOfWork, refund: Refund, request_id: str, fingerprint: bytes) -> Transaction:
        cur = tx.cursor()
        refund_id, replay = idempotency.begin_create(cur, REFUND_PAYMENT, request_id, fingerprint)
        if replay:
            refund_id = replay.resource_id
        else:
            cur.execute("SELECT refund_payment(%s, %s, %s, %s, %s)",
                        (refund_id, refund.transaction_id, refund.amount, refund.currency, refund.reason))
        found = self._transaction(cur, refund_id)
        if found is None:
            raise NotFound("transaction", refund_id)
        return found

    # ---- reads ---------------------------------------------------------------------------------
    @staticmethod
    def _transaction(cur, transaction_id: int) -> Transaction | None:
        cur.execute(TRANSACTION_SELECT + " WHERE t.id = %s", (transaction_id,))
        row = cur.fetchone()
        return Transaction(*row) if row else None

    @staticmethod
    def _invoice(cur, column: str, key: int) -> Invoice | None:
        cur.execute(f"{INVOICE_SELECT} WHERE {column} = %s", (key,))
        row = cur.fetchone()
        if row is None:
            return None
        cur.execute("SELECT description, quantity, unit_price FROM invoice_line_items WHERE invoice_id = %s "
                    "ORDER BY position", (row[0],))
        lines = tuple(InvoiceLine(*line) for line in cur.fetchall())
        invoice_id, transaction_id, user_id, number, currency, tax, name, country, issued_at = row
        return Invoice(id=invoice_id, transaction_id=transaction_id, user_id=user_id, invoice_number=number,
                       currency=currency, lines=lines, tax=tax, billing_name=name, country_code=country,
                       issued_at=issued_at)

    def get_transaction(self, shard: str, transaction_id: int) -> Transaction | None:
        return self._read(shard, lambda cur: self._transaction(cur, transaction_id))

    def list_transactions(self, shard: str, user_id: int, after: Position | None, limit: int) -> list[Transaction]:
        where, params = ("AND (t.created_at, t.id) > (%s, %s)", after) if after else ("", ())
        with self.pools.read(shard) as cur:
            cur.execute(f"{TRANSACTION_SELECT} WHERE t.user_id = %s {where} ORDER BY t.created_at, t.id LIMIT %s",
                        (user_id, *params, limit))
            return [Transaction(*r) for r in cur.fetchall()]

    def get_invoice(self, shard: str, invoice_id: int) -> Invoice | None:
        return self._read(shard, lambda cur: self._invoice(cur, "i.id", invoice_id))

    def revenue(self, shard: str, region: str | None, start: datetime, end: datetime) -> list[CurrencyRevenue]:
        with self.pools.read(shard) as cur:
            cur.execute("SELECT * FROM revenue_report(%s, %s, %s)", (region, start, end))
            return [CurrencyRevenue(*r) for r in cur.fetchall()]
