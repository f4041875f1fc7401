"""The payments domain model: plain values, free of gRPC and of the database driver."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

METHOD_KINDS = ("CARD", "PAYPAL", "BANK_TRANSFER")


@dataclass(frozen=True)
class NewPaymentMethod:
    """A validated payment method to add; `exp_month` and `exp_year` are None except for cards."""

    user_id: int
    kind: str
    card_brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None
    billing_name: str
    country_code: str
    is_default: bool


@dataclass(frozen=True)
class PaymentMethod:
    id: int
    user_id: int
    kind: str
    card_brand: str
    last4: str
    exp_month: int
    exp_year: int
    billing_name: str
    country_code: str
    is_default: bool
    created_at: datetime


@dataclass(frozen=True)
class StoredMethod:
    """What the processor needs of a method on file: its vault token and, for a card, its expiry."""

    kind: str
    token: str
    exp_month: int
    exp_year: int


# Asks the card processor about a charge: the decline reason, or "" when it is accepted.
Authorize = Callable[[StoredMethod, Decimal, str], str]
# A keyset position in a list ordered by (created_at, id).
Position = tuple[datetime, int]


@dataclass(frozen=True)
class Charge:
    """A validated CreatePayment."""

    user_id: int
    enrollment_id: int
    payment_method_id: int
    amount: Decimal
    currency: str
    description: str


@dataclass(frozen=True)
class HeldEnrollment:
    """The enrollment a charge pays, as its locked row shows it while the charge's unit of work lasts."""

    course_id: int
    state: str
    payment_state: str
    price: Decimal
    currency: str

    def payable_by(self, charge: Charge) -> bool:
        """Whether `charge` pays it as it stands: not cancelled, unpaid, at its course's price and currency."""
        return (self.state != "CANCELLED" and self.payment_state == "UNPAID"
                and (self.price, self.currency) == (charge.amount, charge.currency))


@dataclass(frozen=True)
class Refund:
    """A validated RefundPayment; `amount` None refunds everything that remains."""

    transaction_id: int
    amount: Decimal | None
    currency: str | None
    reason: str


@dataclass(frozen=True)
class Transaction:
    id: int
    user_id: int
    region: str
    enrollment_id: int
    payment_method_id: int
    kind: str
    status: str
    amount: Decimal
    currency: str
    refunded_amount: Decimal
    parent_transaction_id: int
    description: str
    failure_reason: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    quantity: int
    unit_price: Decimal

    @property
    def total(self) -> Decimal:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class Invoice:
    id: int
    transaction_id: int
    user_id: int
    invoice_number: str
    currency: str
    lines: tuple[InvoiceLine, ...]
    tax: Decimal
    billing_name: str
    country_code: str
    issued_at: datetime

    @property
    def subtotal(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax


@dataclass(frozen=True)
class Payment:
    """The result of CreatePayment: the charge, and its invoice when it SUCCEEDED."""

    transaction: Transaction
    invoice: Invoice | None


@dataclass(frozen=True)
class CurrencyRevenue:
    currency: str
    gross: Decimal
    refunded: Decimal
    charge_count: int
    refund_count: int
    failed_count: int

    @property
    def net(self) -> Decimal:
        return self.gross - self.refunded

    def __add__(self, other: CurrencyRevenue) -> CurrencyRevenue:
        return CurrencyRevenue(self.currency, self.gross + other.gross, self.refunded + other.refunded,
                               self.charge_count + other.charge_count, self.refund_count + other.refund_count,
                               self.failed_count + other.failed_count)


@dataclass(frozen=True)
class RevenueReport:
    region: str
    start: datetime
    end: datetime
    totals: tuple[CurrencyRevenue, ...]
