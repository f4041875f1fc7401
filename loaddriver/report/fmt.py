"""How numbers read in the report: thousands separators, ms with two decimals, a dash for no value."""
from __future__ import annotations

from xml.sax.saxutils import escape

DASH = "–"


def count(value: int | None) -> str:
    return DASH if value is None else f"{value:,}"


def ms(value: float | None) -> str:
    return DASH if value is None else f"{value:,.2f}"


def rate(value: float | None) -> str:
    """A fraction as a percentage: 0.9512 → 95.12%."""
    return DASH if value is None else f"{value:.2%}"


def per_second(value: float | None) -> str:
    return DASH if value is None else f"{value:,.1f}/s"


def seconds(value: float | None) -> str:
    return DASH if value is None else f"{value:,.1f} s"


def signed(value: float | None, digits: int = 2, suffix: str = "") -> str:
    return DASH if value is None else f"{value:+,.{digits}f}{suffix}"


def text(value) -> str:
    """Any value as text that is safe inside a reportlab Paragraph (which parses a little XML)."""
    if value is None or value == "":
        return DASH
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    return escape(str(value))
