"""What every AIP-233 batch method shares: its size limit, the split by shard and its one request_id."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from shared.errors import InvalidArgument, Violations
from shared.idempotency import check_request_id, fingerprint

MAX_ITEMS = 1000
FIELD = "requests"
Item = TypeVar("Item")

__all__ = ["FIELD", "MAX_ITEMS", "batch_fingerprint", "check_batch", "claim", "field_path", "split_by_shard"]


def field_path(index: int | None, field: str) -> str:
    """A field's path in a request: `field` of a single call (no index), `requests[17].field` of a batch's item
    17. Made only for a violation: a batch checks a thousand items."""
    return field if index is None else f"{FIELD}[{index}].{field}"


def check_batch(items: Sequence[Any], request_id: str, validate: Callable[[int, Any, Violations], None]) -> None:
    """Every item validated before anything is written: one bad item rejects the whole batch, each bad field
    named by its index (`requests[17].watched_seconds`)."""
    if not 1 <= len(items) <= MAX_ITEMS:
        raise InvalidArgument(FIELD, f"must hold 1 to {MAX_ITEMS} items (got {len(items)})")
    violations = Violations()
    for index, item in enumerate(items):
        validate(index, item, violations)
    violations.raise_if_any()
    check_request_id(request_id)


def split_by_shard(indexed: Sequence[tuple[str, Item]]) -> dict[str, list[tuple[int, Item]]]:
    """(shard, item) pairs → shard → [(index in the batch, item)], each shard's items in batch order."""
    parts: dict[str, list[tuple[int, Item]]] = {}
    for index, (shard, item) in enumerate(indexed):
        parts.setdefault(shard, []).append((index, item))
    return parts


def batch_fingerprint(method: str, items: Sequence[Any]) -> bytes:
    """One digest of the whole batch, kept on every shard it touches: a request_id names one batch."""
    return fingerprint({"method": method, "items": [list(item) for item in items]})


def claim(cur: Any, method: str, request_id: str, request_fingerprint: bytes) -> bool:
    """Claim `request_id` for this shard's part of a batch in the current transaction: True when new; False
    when an earlier batch with the same items holds it (its results are stored); INVALID_ARGUMENT when
    another batch does. A concurrent batch with the same key waits here until the first one ends."""
    cur.execute("INSERT INTO batch_results (method, request_id, request_hash) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING", (method, request_id, request_fingerprint))
    if cur.rowcount == 1:
        return True
    cur.execute("SELECT request_hash FROM batch_results WHERE method = %s AND request_id = %s",
                (method, request_id))
    check_replay(bytes(cur.fetchone()[0]), request_fingerprint)
    return False


def check_replay(stored_fingerprint: bytes, request_fingerprint: bytes) -> None:
    """The rule for a batch request_id already held (by this table, or by a unit test's fake of it): the same
    items replay the stored results; other items are INVALID_ARGUMENT."""
    if stored_fingerprint != request_fingerprint:
        raise InvalidArgument("request_id", "was already used by a batch with different items",
                              reason="REQUEST_ID_REUSED")
