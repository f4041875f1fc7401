"""Payments rules without I/O: payment method validation (never a card number), the sandbox processor's
decisions and invoice totals."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from services.payments import rules
from services.payments.domain import CurrencyRevenue, Invoice, InvoiceLine, StoredMethod
from services.payments.processor import SandboxProcessor
from shared.errors import Violations

NOW = datetime(2026, 6, 15, tzinfo=UTC)
CARD = dict(user_id=1, kind="CARD", card_brand="Visa", last4="4242", exp_month=6, exp_year=2026,
            billing_name=" Ana Lima ", country_code="fr", is_default=False)


def check(**overrides) -> tuple[object, dict[str, str]]:
    violations = Violations()
    method = rules.payment_method(**{**CARD, **overrides}, now=NOW, violations=violations)
    return method, {v.field: v.description for v in violations.items}


def test_a_valid_card_is_normalised():
    method, problems = check()
    assert problems == {}
    assert (method.card_brand, method.country_code, method.billing_name, method.exp_month) == ("visa", "FR",
                                                                                               "Ana Lima", 6)


@pytest.mark.parametrize("overrides, field", [
    (dict(last4="4111111111111111"), "payment_method.last4"),
    (dict(last4="4111 1111 1111 1111"), "payment_method.last4"),
    (dict(last4="12a4"), "payment_method.last4"),
    (dict(exp_month=5), "payment_method.exp_year"),          # May 2026 is over in June 2026
    (dict(exp_month=0), "payment_method.exp_month"),
    (dict(exp_year=26), "payment_method.exp_year"),
    (dict(card_brand=""), "payment_method.card_brand"),
    (dict(card_brand="visa!"), "payment_method.card_brand"),
    (dict(country_code="XX"), "payment_method.country_code"),
    (dict(country_code=""), "payment_method.country_code"),
    (dict(billing_name="   "), "payment_method.billing_name"),
    (dict(billing_name="x" * 201), "payment_method.billing_name"),
    (dict(kind="PAYMENT_METHOD_KIND_UNSPECIFIED"), "payment_method.kind"),
    (dict(kind="PAYPAL", card_brand="", exp_month=0, exp_year=0), "payment_method.last4"),
    (dict(kind="BANK_TRANSFER", exp_month=0, exp_year=0), "payment_method.card_brand"),
    (dict(kind="BANK_TRANSFER", card_brand="", exp_month=0, exp_year=0, last4=""), "payment_method.last4"),
])
def test_bad_methods_name_their_field(overrides, field):
    assert field in check(**overrides)[1]


def test_paypal_and_bank_transfer_carry_no_card_fields():
    paypal, problems = check(kind="PAYPAL", card_brand="", last4="", exp_month=0, exp_year=0)
    assert problems == {} and (paypal.exp_month, paypal.exp_year, paypal.card_brand) == (None, None, "")
    bank, problems = check(kind="BANK_TRANSFER", card_brand="", last4="0001", exp_month=0, exp_year=0)
    assert problems == {} and bank.last4 == "0001"


@pytest.mark.parametrize("token, ok", [
    ("tok_1Nv0FGQ9", True), ("4111111111111111", False), ("4111 1111 1111 1111", False),
    ("4111-1111-1111-1111", False), ("378282246310005", False), ("123456789012", False), ("12345678901", True),
    ("", False), ("  ", False), ("x" * 513, False), ("tok\n", False),
])
def test_a_token_is_never_a_card_number(token, ok):
    violations = Violations()
    rules.token(token, "token", violations)
    assert (not violations.items) == ok


def test_request_id_is_required_and_bounded():
    for value, ok in (("", False), ("a" * 129, False), ("r-1", True)):
        violations = Violations()
        rules.required_request_id(value, violations)
        assert (not violations.items) == ok, value


@pytest.mark.parametrize("token, month, year, reason", [
    ("tok_ok", 6, 2026, ""), ("tok_decline_x", 12, 2099, "card_declined"),
    ("tok_insufficient_funds", 12, 2099, "insufficient_funds"), ("tok_fraud_1", 12, 2099, "suspected_fraud"),
    ("tok_ok", 5, 2026, "expired_card"), ("tok_ok", 12, 2025, "expired_card"),
])
def test_the_sandbox_processor_decides_from_token_and_expiry(token, month, year, reason):
    processor = SandboxProcessor(clock=lambda: NOW)
    assert processor.authorize(StoredMethod("CARD", token, month, year), Decimal("1.00"), "EUR") == reason


def test_paypal_never_expires():
    processor = SandboxProcessor(clock=lambda: NOW)
    assert processor.authorize(StoredMethod("PAYPAL", "ba-1", 0, 0), Decimal("1.00"), "EUR") == ""


def test_invoice_totals_follow_the_lines_and_tax():
    invoice = Invoice(id=1, transaction_id=2, user_id=3, invoice_number="INV-2026-02-000001", currency="EUR",
                      lines=(InvoiceLine("a", 2, Decimal("1.25")), InvoiceLine("b", 1, Decimal("7.50"))),
                      tax=Decimal("2.00"), billing_name="Ana", country_code="FR", issued_at=NOW)
    assert (invoice.subtotal, invoice.total) == (Decimal("10.00"), Decimal("12.00"))


def test_currency_revenue_adds_up_and_nets():
    total = CurrencyRevenue("EUR", Decimal("10"), Decimal("2"), 1, 1, 0) + CurrencyRevenue(
        "EUR", Decimal("5"), Decimal("0"), 1, 0, 3)
    assert (total.gross, total.refunded, total.net, total.charge_count, total.failed_count) == (
        Decimal("15"), Decimal("2"), Decimal("13"), 2, 3)
