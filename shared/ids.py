"""The 63-bit shard-encoded ID layout: 42 bits of milliseconds since EPOCH_MS, 11 bits of shard number,
10 bits of a per-shard sequence; the sign bit of a signed 64-bit integer stays 0.

The layout lasts 2^42 ms (139 years, until 2164-05) and stays positive and time-ordered throughout. It is
Instagram's layout with two shard bits given to time: Instagram's 41/13/10 fills all 64 bits, so its IDs
turn negative in a signed bigint 2^40 ms (34.8 years) after the epoch. 2,047 shard numbers remain, and the
sequence keeps its 10 bits (1,024 IDs per millisecond per shard), since it bounds a shard's write rate.

IDs are generated inside each shard's PostgreSQL by `next_id()` (sql/migrations/0011); this module
only reads them, so any process can tell an ID's home shard with no lookup.

MongoDB documents get string IDs of the form "<shard number>-<ObjectId hex>" ("3-65f0c1..."), so they too
name their home shard; the ObjectId part is the document's `_id` in that shard's database.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

EPOCH_MS = 1735689600000  # 2025-01-01T00:00:00Z; must match id_from_parts() in sql/
TIME_BITS = 42
SHARD_BITS = 11
SEQUENCE_BITS = 10
MAX_SHARD_NUMBER = (1 << SHARD_BITS) - 1
MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1
LAST_MS = EPOCH_MS + (1 << TIME_BITS) - 1  # the last millisecond the layout can encode (2164-05-15)


@dataclass(frozen=True)
class DecodedId:
    created_ms: int
    shard_number: int
    sequence: int

    @property
    def created_at(self) -> datetime:
        return datetime.fromtimestamp(self.created_ms / 1000, tz=UTC)


def decode(id_: int) -> DecodedId:
    """Split an ID into its parts. Raises ValueError for a non-positive or out-of-range value."""
    number = shard_number(id_)
    return DecodedId(created_ms=(id_ >> (SHARD_BITS + SEQUENCE_BITS)) + EPOCH_MS, shard_number=number,
                     sequence=id_ & MAX_SEQUENCE)


def shard_number(id_: int) -> int:
    """An ID's home shard number, the one part routing needs (every call, and each item of a batch: a
    fifth of the cost of decode()). Raises ValueError as decode() does."""
    if not 0 < id_ < (1 << 63):
        raise ValueError("must be a positive 64-bit ID")
    return (id_ >> SEQUENCE_BITS) & MAX_SHARD_NUMBER


def encode(created_ms: int, shard_number: int, sequence: int) -> int:
    """The inverse of decode(); used by tests and tools, never to mint real IDs. The sequence wraps, as
    next_id()'s does."""
    if not 0 <= shard_number <= MAX_SHARD_NUMBER:
        raise ValueError("shard number out of range")
    if not EPOCH_MS <= created_ms <= LAST_MS:
        raise ValueError("time outside the ID layout (2025-01-01 to 2164-05-15)")
    return ((created_ms - EPOCH_MS) << (SHARD_BITS + SEQUENCE_BITS)) | (shard_number << SEQUENCE_BITS) | (
        sequence & MAX_SEQUENCE)


_DOCUMENT_ID = re.compile(r"([1-9][0-9]{0,3})-([0-9a-f]{24})")


def document_id(shard_number: int, object_id_hex: str) -> str:
    """The public ID of a MongoDB document stored on shard `shard_number`."""
    if not 0 < shard_number <= MAX_SHARD_NUMBER:
        raise ValueError("shard number out of range")
    return f"{shard_number}-{object_id_hex}"


def decode_document_id(value: str) -> tuple[int, str]:
    """(shard number, ObjectId hex) of a document ID. Raises ValueError when it is malformed."""
    match = _DOCUMENT_ID.fullmatch(value.strip().lower())
    if not match:
        raise ValueError(f"{value!r} is not a document ID (expected <shard number>-<24 hex characters>)")
    return int(match.group(1)), match.group(2)
