"""Validation rules of payments; each broken rule names its request field. A card number never gets past here."""
from __future__ import annotations

import re
from datetime import datetime

from services.payments.countries import COUNTRIES
from services.payments.domain import METHOD_KINDS, NewPaymentMethod
from shared import idempotency, validation
from shared.errors import InvalidArgument, Violations

MAX_TOKEN = 512
MAX_TEXT = 500
_BRAND = re.compile(r"[a-z][a-z0-9_-]{0,29}")
_LAST4 = re.compile(r"[0-9]{4}")
_CARD_NUMBER = re.compile(r"[0-9]{12,19}")


def text(value: str, field: str, violations: Violations, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    """The shared text rule, with the longer limit of payment texts."""
    return validation.text(value, field, violations, required=required, limit=limit)


def looks_like_card_number(value: str) -> bool:
    """12 to 19 digits once spaces and dashes are removed: a primary account number, not a vault token."""
    return bool(_CARD_NUMBER.fullmatch(value.replace(" ", "").replace("-", "")))


def token(value: str, field: str, violations: Violations) -> str:
    if not value.strip():
        violations.add(field, "is required (the vault's token for the card, PayPal or bank account)")
    elif looks_like_card_number(value):
        violations.add(field, "looks like a card number; send the vault's token, never the card number")
    elif len(value) > MAX_TOKEN:
        violations.add(field, f"must be at most {MAX_TOKEN} characters")
    elif not value.isprintable():
        violations.add(field, "must be printable text")
    return value


def _last4(value: str, kind: str, field: str, violations: Violations) -> str:
    cleaned = value.strip()
    if kind == "PAYPAL":
        if cleaned:
            violations.add(field, "must be empty for PAYPAL")
    elif looks_like_card_number(cleaned) or (len(cleaned) > 4 and cleaned.isdigit()):
        violations.add(field, "must be only the last 4 digits; a full number is never accepted")
    elif not _LAST4.fullmatch(cleaned):
        violations.add(field, f"must be exactly 4 digits for {kind}")
    return cleaned


def _card_fields(kind: str, brand: str, month: int, year: int, now: datetime, prefix: str,
                 violations: Violations) -> tuple[str, int | None, int | None]:
    if kind != "CARD":
        for value, name in ((brand.strip(), "card_brand"), (month, "exp_month"), (year, "exp_year")):
            if value:
                violations.add(f"{prefix}.{name}", "is for CARD only")
        return "", None, None
    brand = brand.strip().lower()
    if not _BRAND.fullmatch(brand):
        violations.add(f"{prefix}.card_brand", "is required for CARD: the card network, such as visa or mastercard")
    month_ok = 1 <= month <= 12
    if not month_ok:
        violations.add(f"{prefix}.exp_month", f"must be from 1 to 12 (got {month})")
    if not 1000 <= year <= 9999:
        violations.add(f"{prefix}.exp_year", f"must be a four-digit year (got {year})")
    elif month_ok and (year, month) < (now.year, now.month):
        violations.add(f"{prefix}.exp_year", f"the card expired in {year}-{month:02d}")
    return brand, month, year


def payment_method(user_id: int, kind: str, card_brand: str, last4: str, exp_month: int, exp_year: int,
                   billing_name: str, country_code: str, is_default: bool, now: datetime,
                   violations: Violations, prefix: str = "payment_method") -> NewPaymentMethod:
    if kind not in METHOD_KINDS:
        violations.add(f"{prefix}.kind", "is required (CARD, PAYPAL or BANK_TRANSFER)"
                       if kind.endswith("UNSPECIFIED") or not kind else f"unknown kind {kind!r}")
    brand, month, year = _card_fields(kind, card_brand, exp_month, exp_year, now, prefix, violations)
    country = country_code.strip().upper()
    if country not in COUNTRIES:
        violations.add(f"{prefix}.country_code", f"{country_code!r} is not an ISO 3166-1 alpha-2 country code"
                       if country else "is required (ISO 3166-1 alpha-2, such as FR)")
    return NewPaymentMethod(
        user_id=user_id, kind=kind, card_brand=brand, last4=_last4(last4, kind, f"{prefix}.last4", violations),
        exp_month=month, exp_year=year,
        billing_name=text(billing_name, f"{prefix}.billing_name", violations, limit=200),
        country_code=country, is_default=is_default)


def required_request_id(request_id: str, violations: Violations, field: str = "request_id") -> None:
    """Money moves at most once per request: the key that makes a retry safe is mandatory."""
    if not request_id:
        violations.add(field, "is required: it makes a retried payment charge only once")
        return
    try:
        idempotency.check_request_id(request_id, field)
    except InvalidArgument as exc:
        violations.items.extend(exc.violations)
