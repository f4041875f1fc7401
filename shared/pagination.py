"""AIP-158 pagination: page sizes and opaque keyset page tokens bound to the request that made them."""
from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from shared.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
INT64_MIN, INT64_MAX = -2**63, 2**63 - 1
MAX_KEY_CHARS = 200
MAX_UTC_OFFSET = timedelta(hours=14)  # the widest real one; PostgreSQL refuses some wider ones Python accepts


def page_size(requested: int, field: str = "page_size") -> int:
    """0 means the default; above the maximum is coerced down; negative is INVALID_ARGUMENT."""
    if requested < 0:
        raise InvalidArgument(field, "must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def _fingerprint(query: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(query, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode_token(position: dict[str, Any], query: dict[str, Any]) -> str:
    """A token for the page after `position` (the last row's sort key) of the list described by `query`."""
    body = json.dumps({"p": position, "q": _fingerprint(query)}, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode_token(token: str, query: dict[str, Any], field: str = "page_token") -> dict[str, Any] | None:
    """The position a token resumes after, or None for the first page.

    A token that is not ours, or that came from a list with other filters, is INVALID_ARGUMENT.
    """
    if not token:
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        position, fingerprint = body["p"], body["q"]
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument(field, "is not a token returned by this method") from None
    if fingerprint != _fingerprint(query):
        raise InvalidArgument(field, "was issued for a request with other parameters") from None
    if not isinstance(position, dict) or not all(_storable(v) for v in position.values()):
        raise InvalidArgument(field, "is not a token returned by this method")
    return position


def _storable(value: Any) -> bool:
    """A position value a database can compare: a forged token may hold numbers past 64 bits or NaN."""
    if isinstance(value, bool) or isinstance(value, float):
        return False
    if isinstance(value, int):
        return INT64_MIN <= value <= INT64_MAX
    return isinstance(value, str) and len(value) <= MAX_KEY_CHARS


def decode_time_key(token: str, query: dict[str, Any], field: str = "page_token") -> tuple[datetime, int] | None:
    """The (created_at, id) a keyset page token resumes after, or None for the first page."""
    position = decode_token(token, query, field)
    if position is None:
        return None
    try:
        after, key = datetime.fromisoformat(position["t"]), position["id"]
    except (KeyError, TypeError, ValueError):
        raise InvalidArgument(field, "is not a token returned by this method") from None
    offset = after.utcoffset()
    if not isinstance(key, int) or offset is None or abs(offset) > MAX_UTC_OFFSET:
        raise InvalidArgument(field, "is not a token returned by this method")
    return after, key


def time_keyset_page(rows: list[Any], limit: int, query: dict[str, Any]) -> tuple[list[Any], str]:
    """The first `limit` of `rows` (fetched as limit + 1, in (created_at, id) order) and the next token."""
    if len(rows) <= limit:
        return rows, ""
    rows = rows[:limit]
    return rows, encode_token({"t": rows[-1].created_at.isoformat(), "id": rows[-1].id}, query)
