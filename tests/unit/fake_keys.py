"""The idempotency tables of one shard (idempotency_keys, batch_results) in memory, for the unit fakes; the
rule for a key already held is the real one (`shared.idempotency.check_same_request`, `shared.batches.check_replay`)."""
from __future__ import annotations

from typing import Any

from shared import batches, idempotency


class FakeKeys:
    def __init__(self) -> None:
        self.creates: dict[tuple[str, str], tuple[bytes, int]] = {}
        self.batches: dict[tuple[str, str], tuple[bytes, Any]] = {}

    def claim(self, method: str, request_id: str, fingerprint: bytes, resource_id: int) -> idempotency.Replay | None:
        """As `idempotency.claim`: None when the key is new (it now names `resource_id`), else the replay."""
        if not request_id:
            return None
        held = self.creates.get((method, request_id))
        if held is None:
            self.creates[(method, request_id)] = (fingerprint, resource_id)
            return None
        idempotency.check_same_request(held[0], fingerprint)
        return idempotency.Replay(held[1])

    def release(self, method: str, request_id: str) -> None:
        self.creates.pop((method, request_id), None)

    def claim_batch(self, method: str, request_id: str, fingerprint: bytes) -> tuple[bool, Any]:
        """As `batches.claim`: (True, None) when new, else (False, the results stored with `store_batch`)."""
        held = self.batches.get((method, request_id))
        if held is None:
            self.batches[(method, request_id)] = (fingerprint, None)
            return True, None
        batches.check_replay(held[0], fingerprint)
        return False, held[1]

    def store_batch(self, method: str, request_id: str, results: Any) -> None:
        fingerprint, _ = self.batches[(method, request_id)]
        self.batches[(method, request_id)] = (fingerprint, results)
