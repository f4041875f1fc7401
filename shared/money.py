"""Money rules shared by every API: decimal amounts with at most two decimals, in a known currency."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from shared import validation
from shared.errors import Violations

CURRENCIES = frozenset({"USD", "EUR", "GBP", "JPY", "INR", "BRL", "AUD", "CAD", "CNY", "ZAR", "NGN", "MXN",
                        "SGD", "KES", "EGP", "NZD", "CHF", "SEK", "KRW", "IDR"})
MAX_AMOUNT = Decimal("1000000.00")
CENT = Decimal("0.01")


def check(amount: str, currency: str, field: str, violations: Violations, *, positive: bool = False
          ) -> tuple[Decimal, str]:
    """The amount and currency of a Money message at `field`; each problem names its sub-field."""
    currency = currency.strip().upper()
    if currency not in CURRENCIES:
        violations.add(f"{field}.currency_code", f"unknown currency {currency!r}" if currency else "is required")
    if not validation.ascii_decimal(amount, f"{field}.amount", violations):
        return Decimal(0), currency
    try:
        value = Decimal(amount.strip())
    except InvalidOperation:
        violations.add(f"{field}.amount", f"{amount!r} is not a decimal number")
        return Decimal(0), currency
    if not value.is_finite():
        violations.add(f"{field}.amount", "must be a finite number")
        return Decimal(0), currency
    if value < 0 or (positive and value == 0):
        violations.add(f"{field}.amount", "must be greater than 0" if positive else "must not be negative")
    elif not isinstance(exponent := value.as_tuple().exponent, int) or exponent < -2:
        violations.add(f"{field}.amount", "must have at most two decimals")
    elif value > MAX_AMOUNT:
        violations.add(f"{field}.amount", f"must be at most {MAX_AMOUNT}")
    else:
        return value.quantize(CENT), currency
    return Decimal(0), currency  # quantizing a value past the bounds can overflow the decimal context


def format_amount(value: Decimal) -> str:
    return str(value.quantize(CENT))
