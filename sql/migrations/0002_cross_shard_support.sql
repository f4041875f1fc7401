-- Support for writes that span shards and for idempotent creates.

-- Commit decisions of cross-shard writes coordinated from this shard (see shared/twophase.py).
CREATE TABLE tpc_decisions (
    gid        text PRIMARY KEY,
    decided_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tpc_decisions_decided_at_idx ON tpc_decisions (decided_at);

-- Idempotency keys of create requests whose resource lives on this shard: the same request_id
-- returns the first result; the same request_id with other parameters is refused.
CREATE TABLE idempotency_keys (
    method       text        NOT NULL,
    request_id   text        NOT NULL CHECK (length(request_id) BETWEEN 1 AND 128),
    request_hash bytea       NOT NULL,
    resource_id  bigint      NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (method, request_id)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
