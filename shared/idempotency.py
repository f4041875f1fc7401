"""Idempotent creates: a request_id is recorded with a fingerprint of the request in the same transaction
as the resource it created, on the resource's shard (table idempotency_keys, sql/migrations/0002)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from shared.errors import InvalidArgument

MAX_REQUEST_ID = 128


def check_request_id(request_id: str, field: str = "request_id") -> None:
    if len(request_id) > MAX_REQUEST_ID:
        raise InvalidArgument(field, f"must be at most {MAX_REQUEST_ID} characters")
    if request_id and not request_id.isprintable():
        raise InvalidArgument(field, "must be printable text")


def fingerprint(params: dict[str, Any]) -> bytes:
    """A stable digest of a request's parameters (never include secrets such as passwords)."""
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).digest()


@dataclass(frozen=True)
class Replay:
    """An earlier request with the same request_id: the resource it created."""

    resource_id: int


def claim(cur: Any, method: str, request_id: str, request_fingerprint: bytes, resource_id: int) -> Replay | None:
    """Record `request_id` for a resource about to be created in this transaction.

    Returns None when the key is new. When an earlier request holds it, returns a Replay of its resource,
    or raises INVALID_ARGUMENT if that request had other parameters. A concurrent request with the same key
    waits here until the first one commits or rolls back.
    """
    cur.execute("INSERT INTO idempotency_keys (method, request_id, request_hash, resource_id) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING", (method, request_id, request_fingerprint,
                                                                   resource_id))
    if cur.rowcount == 1:
        return None
    cur.execute("SELECT request_hash, resource_id FROM idempotency_keys WHERE method = %s AND request_id = %s",
                (method, request_id))
    stored_hash, stored_id = cur.fetchone()
    if bytes(stored_hash) != request_fingerprint:
        raise InvalidArgument("request_id", "was already used by a request with different parameters",
                              reason="REQUEST_ID_REUSED")
    return Replay(stored_id)


def begin_create(cur: Any, method: str, request_id: str, request_fingerprint: bytes) -> tuple[int, Replay | None]:
    """The new resource's ID (from the shard's `next_id()`), and the earlier request's Replay when
    `request_id` was already used (see `claim`; no request_id means no claim)."""
    cur.execute("SELECT next_id()")
    resource_id = cur.fetchone()[0]
    if not request_id:
        return resource_id, None
    return resource_id, claim(cur, method, request_id, request_fingerprint, resource_id)
