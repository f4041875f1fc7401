"""PostgreSQL storage of payments: every row of a payment on the payer's shard, written through the schema's
functions (sql/migrations/0006_payments.sql) in one local transaction, run again after a lost race."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from services.payments.domain import (
    Authorize,
    Charge,
    CheckCourse,
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
from shared import idempotency
from shared.errors import NotFound
from shared.pg import transactions
from shared.pg.pools import ShardPools

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


def _claim_enrollment(cur, charge: Charge, check_course: CheckCourse) -> bool:
    """Locks the enrollment row for this transaction and tells whether it can be charged as asked; its course
    must still be open (`check_course` raises when not)."""
    cur.execute("SELECT course_id, state, payment_state, course_price, course_currency FROM enrollments "
                "WHERE id = %s AND student_id = %s FOR NO KEY UPDATE", (charge.enrollment_id, charge.user_id))
    row = cur.fetchone()
    if row is None:
        return False
    course_id, state, payment_state, price, currency = row
    if state == "CANCELLED" or payment_state != "UNPAID" or (price, currency) != (charge.amount, charge.currency):
        return False
    check_course(course_id)
    return True


def authorize_once(authorize: Authorize) -> Authorize:
    """`authorize`, asked at most once: a transaction run again after a lost race reuses the first answer (a
    real processor's authorization would be reused, never requested twice)."""
    answers: list[str] = []

    def ask(method: StoredMethod, amount, currency: str) -> str:
        if not answers:
            answers.append(authorize(method, amount, currency))
        return answers[0]

    return ask


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

    def add_payment_method(self, shard: str, method: NewPaymentMethod, token: str, request_id: str,
                           fingerprint: bytes) -> PaymentMethod:
        def body(cur) -> PaymentMethod:
            method_id, replay = idempotency.begin_create(cur, ADD_METHOD, request_id, fingerprint)
            if replay:
                return self._method(cur, replay.resource_id)
            cur.execute("SELECT add_payment_method(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        (method_id, method.user_id, method.kind, method.card_brand, method.last4,
                         method.exp_month, method.exp_year, method.billing_name, method.country_code, token,
                         method.is_default))
            return self._method(cur, method_id)

        return transactions.write(self.pools, shard, body)

    def list_payment_methods(self, shard: str, user_id: int, after: Position | None, limit: int) -> list[PaymentMethod]:
        where, params = ("AND (created_at, id) > (%s, %s)", after) if after else ("", ())
        with self.pools.read(shard) as cur:
            cur.execute(f"{METHOD_SELECT} WHERE user_id = %s AND deleted_at IS NULL {where} "
                        "ORDER BY created_at, id LIMIT %s", (user_id, *params, limit))
            return [PaymentMethod(*r) for r in cur.fetchall()]

    def delete_payment_method(self, shard: str, method_id: int, owner: int | None = None) -> None:
        """`owner`: the only user whose card this may be (a student's call); someone else's is not found."""
        def body(cur) -> None:
            if owner is not None:
                cur.execute("SELECT 1 FROM payment_methods WHERE id = %s AND user_id = %s AND deleted_at IS NULL",
                            (method_id, owner))
                if cur.fetchone() is None:
                    raise NotFound("payment method", method_id)
            cur.execute("SELECT delete_payment_method(%s)", (method_id,))

        transactions.write(self.pools, shard, body)

    # ---- charges and refunds -------------------------------------------------------------------
    def create_payment(self, shard: str, charge: Charge, request_id: str, fingerprint: bytes,
                       authorize: Authorize, check_course: CheckCourse) -> Payment:
        """Claim the request_id (a concurrent duplicate waits on the key, then replays), then the enrollment (a
        concurrent payment of it with another request_id waits on its row, then finds it paid), then confirm
        its course is open and ask the processor, then record. The processor is asked at most once a call."""
        ask = authorize_once(authorize)

        def body(cur) -> Payment:
            transaction_id, replay = idempotency.begin_create(cur, CREATE_PAYMENT, request_id, fingerprint)
            if replay:
                return self._payment(cur, replay.resource_id)
            failure = ""
            if _claim_enrollment(cur, charge, check_course):
                cur.execute("SELECT kind, vault_token, coalesce(exp_month, 0), coalesce(exp_year, 0) "
                            "FROM payment_methods WHERE id = %s AND user_id = %s AND deleted_at IS NULL",
                            (charge.payment_method_id, charge.user_id))
                row = cur.fetchone()
                failure = ask(StoredMethod(*row), charge.amount, charge.currency) if row else ""
            # When the enrollment or the method cannot be charged, take_payment names the broken rule.
            cur.execute("SELECT take_payment(%s, %s, %s, %s, %s, %s, %s, %s)",
                        (transaction_id, charge.user_id, charge.enrollment_id, charge.payment_method_id,
                         charge.amount, charge.currency, charge.description, failure))
            return self._payment(cur, transaction_id)

        return transactions.write(self.pools, shard, body)

    def _payment(self, cur, transaction_id: int) -> Payment:
        transaction = self._transaction(cur, transaction_id)
        if transaction is None:
            raise NotFound("transaction", transaction_id)
        return Payment(transaction, self._invoice(cur, "i.transaction_id", transaction_id))

    def refund_payment(self, shard: str, refund: Refund, request_id: str, fingerprint: bytes) -> Transaction:
        def body(cur) -> Transaction:
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

        return transactions.write(self.pools, shard, body)

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
