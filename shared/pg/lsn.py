"""PostgreSQL WAL positions (LSNs) and the session token that carries them between calls.

An LSN is written by PostgreSQL as two hex numbers, "16/B374D848"; here it is also an int for comparison.
The token of the `x-min-lsn` metadata names, per shard, the commit position a reader must see:
"eu:0/3000A28" or, after writes on several shards, "na:0/1A2B3C8,eu:0/3000A28".
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from shared.errors import InvalidArgument

_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")
_SHARD = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MAX_TOKEN_CHARS = 1024


def parse_lsn(text: str) -> int:
    """"16/B374D848" → int; ValueError when malformed."""
    match = _LSN.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not an LSN like 0/3000A28")
    return (int(match.group(1), 16) << 32) | int(match.group(2), 16)


def format_lsn(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def parse_token(text: str, field: str = "x-min-lsn") -> dict[str, int]:
    """The shard → LSN map of a token; InvalidArgument naming `field` when it is malformed."""
    if len(text) > MAX_TOKEN_CHARS:
        raise InvalidArgument(field, f"longer than {MAX_TOKEN_CHARS} characters")
    positions: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        shard, sep, lsn = part.partition(":")
        if not sep or not _SHARD.match(shard):
            raise InvalidArgument(field, f"{part!r}: expected shard:LSN, e.g. eu:0/3000A28")
        try:
            value = parse_lsn(lsn)
        except ValueError as exc:
            raise InvalidArgument(field, str(exc)) from None
        positions[shard] = max(value, positions.get(shard, 0))
    return positions


def format_token(positions: Mapping[str, int]) -> str:
    return ",".join(f"{shard}:{format_lsn(lsn)}" for shard, lsn in sorted(positions.items()))


def merge(into: dict[str, int], positions: Mapping[str, int]) -> dict[str, int]:
    """Keep the later position of each shard; returns `into`."""
    for shard, lsn in positions.items():
        if lsn > into.get(shard, -1):
            into[shard] = lsn
    return into
