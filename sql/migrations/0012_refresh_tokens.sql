-- Refresh tokens of sign-in sessions, on the user's home shard. Only a SHA-256 of each token is kept, so a
-- copy of this table signs nobody in; Logout and a refresh revoke a token by setting revoked_at.

CREATE TABLE refresh_tokens (
    token_hash bytea       PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);
