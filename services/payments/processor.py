"""The card processor: the port the service charges through, and a sandbox that decides from the vault token.

The sandbox follows the test tokens of card vaults: a token starting with `tok_decline` is declined
(`card_declined`), `tok_insufficient_funds` lacks funds, `tok_fraud` is refused as suspected fraud, and a card
past its expiry month is `expired_card`. Everything else is accepted. It only decides; it moves no money, so
asking it inside the database transaction that records the charge is safe.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Callable

from services.payments.domain import StoredMethod

DECLINES = (("tok_decline", "card_declined"), ("tok_insufficient_funds", "insufficient_funds"),
            ("tok_fraud", "suspected_fraud"))


class SandboxProcessor:
    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.clock = clock

    def authorize(self, method: StoredMethod, amount: Decimal, currency: str) -> str:
        """Why the charge is declined, or "" when it is accepted."""
        for prefix, reason in DECLINES:
            if method.token.startswith(prefix):
                return reason
        if method.kind == "CARD":
            now = self.clock()
            if (method.exp_year, method.exp_month) < (now.year, now.month):
                return "expired_card"
        return ""
