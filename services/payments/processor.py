"""The card processor: the port the service charges through, and a sandbox that decides from the vault token.

The sandbox follows the test tokens of card vaults: a token starting with `tok_decline` is declined
(`card_declined`), `tok_insufficient_funds` lacks funds, `tok_fraud` is refused as suspected fraud, and a card
past its expiry month is `expired_card`. Everything else is accepted. It only decides; it moves no money.
Each authorization is logged (an audit line, as a real processor's dashboard would list it), with a digest of
the vault token rather than the token, so tests can count how often the processor was asked.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from services.payments.domain import Authorize, StoredMethod

DECLINES = (("tok_decline", "card_declined"), ("tok_insufficient_funds", "insufficient_funds"),
            ("tok_fraud", "suspected_fraud"))
log = logging.getLogger(__name__)


def authorize_once(authorize: Authorize) -> Authorize:
    """`authorize`, asked at most once: a unit of work run again after a lost race reuses the first answer (a
    real processor's authorization would be reused, never requested twice)."""
    answers: list[str] = []

    def ask(method: StoredMethod, amount: Decimal, currency: str) -> str:
        if not answers:
            answers.append(authorize(method, amount, currency))
        return answers[0]

    return ask


def token_digest(token: str) -> str:
    """What the audit line shows of a vault token."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class SandboxProcessor:
    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.clock = clock

    def authorize(self, method: StoredMethod, amount: Decimal, currency: str) -> str:
        """Why the charge is declined, or "" when it is accepted."""
        outcome = self._decide(method)
        log.info("card authorization", extra={"token_digest": token_digest(method.token), "amount": str(amount),
                                              "currency": currency, "declined": outcome})
        return outcome

    def _decide(self, method: StoredMethod) -> str:
        for prefix, reason in DECLINES:
            if method.token.startswith(prefix):
                return reason
        if method.kind == "CARD":
            now = self.clock()
            if (method.exp_year, method.exp_month) < (now.year, now.month):
                return "expired_card"
        return ""
