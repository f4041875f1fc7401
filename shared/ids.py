"""The 64-bit shard-encoded ID layout (Instagram's): 41 bits of milliseconds since EPOCH_MS,
13 bits of shard number, 10 bits of a per-shard sequence.

IDs are generated inside each shard's PostgreSQL by `next_id()` (sql/migrations/0001); this module
only reads them, so any process can tell an ID's home shard with no lookup.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

EPOCH_MS = 1735689600000  # 2025-01-01T00:00:00Z; must match next_id() in sql/
SHARD_BITS = 13
SEQUENCE_BITS = 10
MAX_SHARD_NUMBER = (1 << SHARD_BITS) - 1


@dataclass(frozen=True)
class DecodedId:
    created_ms: int
    shard_number: int
    sequence: int

    @property
    def created_at(self) -> datetime:
        return datetime.fromtimestamp(self.created_ms / 1000, tz=timezone.utc)


def decode(id_: int) -> DecodedId:
    """Split an ID into its parts. Raises ValueError for a non-positive or out-of-range value."""
    if not 0 < id_ < (1 << 63):
        raise ValueError("must be a positive 64-bit ID")
    return DecodedId(
        created_ms=(id_ >> (SHARD_BITS + SEQUENCE_BITS)) + EPOCH_MS,
        shard_number=(id_ >> SEQUENCE_BITS) & MAX_SHARD_NUMBER,
        sequence=id_ & ((1 << SEQUENCE_BITS) - 1),
    )


def encode(created_ms: int, shard_number: int, sequence: int) -> int:
    """The inverse of decode(); used by tests and tools, never to mint real IDs."""
    if not 0 <= shard_number <= MAX_SHARD_NUMBER:
        raise ValueError("shard number out of range")
    return ((created_ms - EPOCH_MS) << (SHARD_BITS + SEQUENCE_BITS)) | (shard_number << SEQUENCE_BITS) | (
        sequence & ((1 << SEQUENCE_BITS) - 1))
