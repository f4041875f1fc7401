"""The rules of the payments service: validation, placement on the payer's shard, idempotency keys, when the
card processor is asked, and the revenue report gathered from every shard. No gRPC, no SQL."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from services.payments import rules
from services.payments.domain import (
    Charge,
    CurrencyRevenue,
    HeldEnrollment,
    Invoice,
    NewPaymentMethod,
    Payment,
    PaymentMethod,
    Position,
    Refund,
    RevenueReport,
    StoredMethod,
    Transaction,
)
from services.payments.processor import authorize_once
from shared import idempotency, money, pagination
from shared.auth import caller
from shared.errors import InvalidArgument, NotFound, Violations
from shared.fan_out import FanOut
from shared.sharding import ShardMap
from shared.unit_of_work import UnitOfWork, UnitsOfWork


class Processor(Protocol):
    """The card processor (`processor.SandboxProcessor` locally): why a charge is declined, or "" to accept it."""

    def authorize(self, method: StoredMethod, amount: Decimal, currency: str) -> str: ...


class CourseGate(Protocol):
    """The courses service (`courses_client.GrpcCourseGate`): refuses a charge for a course not open."""

    def check_open(self, course_id: int) -> None: ...


class PaymentStore(Protocol):
    """Storage of payments on the payer's shard; `PgPaymentStore` is the real one, unit tests use
    `tests/unit/payments_fakes.FakePaymentStore`. Writes load and save in the unit of work the service opened;
    reads take the shard."""

    def add_payment_method(self, tx: UnitOfWork, method: NewPaymentMethod, token: str, request_id: str,
                           fingerprint: bytes) -> PaymentMethod: ...

    def list_payment_methods(self, shard: str, user_id: int, after: Position | None,
                             limit: int) -> list[PaymentMethod]: ...

    def delete_payment_method(self, tx: UnitOfWork, method_id: int, owner: int | None = None) -> None: ...

    def begin_payment(self, tx: UnitOfWork, request_id: str, fingerprint: bytes) -> tuple[int, int | None]: ...

    def hold_enrollment(self, tx: UnitOfWork, charge: Charge) -> HeldEnrollment | None: ...

    def method_on_file(self, tx: UnitOfWork, charge: Charge) -> StoredMethod | None: ...

    def take_payment(self, tx: UnitOfWork, transaction_id: int, charge: Charge, failure: str) -> Payment: ...

    def payment(self, tx: UnitOfWork, transaction_id: int) -> Payment: ...

    def get_transaction(self, shard: str, transaction_id: int) -> Transaction | None: ...

    def list_transactions(self, shard: str, user_id: int, after: Position | None, limit: int) -> list[Transaction]: ...

    def get_invoice(self, shard: str, invoice_id: int) -> Invoice | None: ...

    def refund_payment(self, tx: UnitOfWork, refund: Refund, request_id: str, fingerprint: bytes) -> Transaction: ...

    def revenue(self, shard: str, region: str | None, start: datetime, end: datetime) -> list[CurrencyRevenue]: ...


class PaymentService:
    def __init__(self, store: PaymentStore, shard_map: ShardMap, processor: Processor, fan_out: FanOut,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), *, courses: CourseGate,
                 units: UnitsOfWork):
        self.store = store
        self.units = units
        self.shards = shard_map
        self.processor = processor
        self.courses = courses
        self.fan_out = fan_out
        self.clock = clock

    def _shard(self, id_: int, field: str, violations: Violations | None = None) -> str:
        """The home shard an ID names; with `violations`, a malformed ID is collected rather than raised."""
        try:
            return self.shards.for_id(id_, field=field).name
        except InvalidArgument as exc:
            if violations is None:
                raise
            violations.items.extend(exc.violations)
            return ""

    # ---- payment methods -----------------------------------------------------------------------
    def add_payment_method(self, user_id: int, kind: str, card_brand: str, last4: str, exp_month: int,
                           exp_year: int, billing_name: str, country_code: str, is_default: bool, token: str,
                           request_id: str) -> PaymentMethod:
        violations = Violations()
        shard = self._shard(user_id, "payment_method.user_id", violations)
        method = rules.payment_method(user_id, kind, card_brand, last4, exp_month, exp_year, billing_name,
                                      country_code, is_default, self.clock(), violations)
        token = rules.token(token, "token", violations)
        violations.raise_if_any()
        idempotency.check_request_id(request_id)
        fingerprint = idempotency.fingerprint({**method.__dict__, "token": token})
        return self.units.write(shard, lambda tx: self.store.add_payment_method(tx, method, token, request_id,
                                                                                fingerprint))

    def _user_page(self, method: str, fetch, user_id: int, page_size: int, page_token: str):
        """One keyset page (by creation time) of a user's rows: `fetch(shard, user_id, after, limit)`."""
        shard = self._shard(user_id, "user_id")
        limit = pagination.page_size(page_size)
        query = {"method": method, "user_id": user_id}
        after = pagination.decode_time_key(page_token, query)
        return pagination.time_keyset_page(fetch(shard, user_id, after, limit + 1), limit, query)

    def list_payment_methods(self, user_id: int, page_size: int, page_token: str) -> tuple[list[PaymentMethod], str]:
        return self._user_page("ListPaymentMethods", self.store.list_payment_methods, user_id, page_size, page_token)

    def delete_payment_method(self, method_id: int) -> None:
        owner = caller.bound_user()
        self.units.write(self._shard(method_id, "id"),
                         lambda tx: self.store.delete_payment_method(tx, method_id, owner=owner))

    # ---- charges and refunds -------------------------------------------------------------------
    def create_payment(self, user_id: int, enrollment_id: int, payment_method_id: int, amount: str,
                       currency: str, description: str, request_id: str) -> Payment:
        violations = Violations()
        shard = self._shard(user_id, "user_id", violations)
        self._shard(enrollment_id, "enrollment_id", violations)
        self._shard(payment_method_id, "payment_method_id", violations)
        value, currency = money.check(amount, currency, "amount", violations, positive=True)
        description = rules.text(description, "description", violations)
        rules.required_request_id(request_id, violations)
        violations.raise_if_any()
        charge = Charge(user_id=user_id, enrollment_id=enrollment_id, payment_method_id=payment_method_id,
                        amount=value, currency=currency, description=description)
        fingerprint = idempotency.fingerprint({**charge.__dict__, "amount": money.format_amount(value)})
        return self._charge(shard, charge, request_id, fingerprint)

    def _charge(self, shard: str, charge: Charge, request_id: str, fingerprint: bytes) -> Payment:
        """In one unit of work on the payer's shard: claim the request_id (a concurrent duplicate waits on it, then
        replays), hold the enrollment (a concurrent charge of it with another request_id waits on its row, then
        finds it paid), confirm its course is still open, ask the processor, record the outcome. The processor
        is asked only while the enrollment is held, so one enrollment gets one authorization; a unit of work
        run again after a lost race reuses the first answer (`authorize_once`) rather than asking again."""
        ask = authorize_once(self.processor.authorize)

        def body(tx: UnitOfWork) -> Payment:
            transaction_id, replayed = self.store.begin_payment(tx, request_id, fingerprint)
            if replayed is not None:
                return self.store.payment(tx, replayed)
            failure = ""
            held = self.store.hold_enrollment(tx, charge)
            if held is not None and held.payable_by(charge):
                self.courses.check_open(held.course_id)
                method = self.store.method_on_file(tx, charge)
                failure = ask(method, charge.amount, charge.currency) if method else ""
            # When the enrollment or the method cannot be charged, take_payment names the broken rule.
            return self.store.take_payment(tx, transaction_id, charge, failure)

        return self.units.write(shard, body)

    def refund_payment(self, transaction_id: int, amount: str | None, currency: str | None, reason: str,
                       request_id: str) -> Transaction:
        violations = Violations()
        shard = self._shard(transaction_id, "transaction_id", violations)
        value = None
        if amount is not None:
            value, currency = money.check(amount, currency or "", "amount", violations, positive=True)
        reason = rules.text(reason, "reason", violations, required=False)
        rules.required_request_id(request_id, violations)
        violations.raise_if_any()
        refund = Refund(transaction_id=transaction_id, amount=value, currency=None if value is None else currency,
                        reason=reason)
        fingerprint = idempotency.fingerprint({**refund.__dict__,
                                               "amount": None if value is None else money.format_amount(value)})
        return self.units.write(shard, lambda tx: self.store.refund_payment(tx, refund, request_id, fingerprint))

    # ---- reads ---------------------------------------------------------------------------------
    def get_transaction(self, transaction_id: int) -> Transaction:
        found = self.store.get_transaction(self._shard(transaction_id, "id"), transaction_id)
        if found is None:
            raise NotFound("transaction", transaction_id)
        return found

    def list_transactions(self, user_id: int, page_size: int, page_token: str) -> tuple[list[Transaction], str]:
        return self._user_page("ListTransactions", self.store.list_transactions, user_id, page_size, page_token)

    def get_invoice(self, invoice_id: int) -> Invoice:
        found = self.store.get_invoice(self._shard(invoice_id, "id"), invoice_id)
        if found is None:
            raise NotFound("invoice", invoice_id)
        return found

    def revenue_report(self, region: str, start: datetime | None, end: datetime | None) -> RevenueReport:
        """Totals per currency over [start, end), from every shard at once (or the one holding `region`)."""
        violations = Violations()
        shards = self.shards.names
        if region and region != "REGION_UNSPECIFIED":
            try:
                shards = (self.shards.for_region(region).name,)
            except InvalidArgument as exc:
                violations.items.extend(exc.violations)
        else:
            region = ""
        if start is None:
            violations.add("start_time", "is required")
        if end is None:
            violations.add("end_time", "is required")
        elif start is not None and end <= start:
            violations.add("end_time", "must be after start_time")
        violations.raise_if_any()
        parts = self.fan_out.map(lambda s: self.store.revenue(s, region or None, start, end),
                                 shards)
        totals: dict[str, CurrencyRevenue] = {}
        for rows in parts:
            for row in rows:
                totals[row.currency] = totals[row.currency] + row if row.currency in totals else row
        return RevenueReport(region=region or "REGION_UNSPECIFIED", start=start, end=end,
                             totals=tuple(totals[c] for c in sorted(totals)))
