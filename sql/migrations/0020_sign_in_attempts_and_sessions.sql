-- Sign-in attempts counted in the database, so every users process sees one count (issue 16). A row per
-- account (its email as typed, on the account's home shard; on the email's directory shard when no account has
-- it) and per caller address (on the shard its hash picks). An attempt is counted before its password is
-- checked, in one upsert, so concurrent attempts on any number of processes cannot pass the limit together.

CREATE TABLE sign_in_attempts (
    scope        text        NOT NULL CHECK (scope IN ('account', 'caller')),
    key          text        NOT NULL CHECK (length(key) BETWEEN 1 AND 320),
    attempts     integer     NOT NULL CHECK (attempts > 0),
    window_start timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX sign_in_attempts_window_start_idx ON sign_in_attempts (window_start);

-- Sessions (issue 16): a session's ID is the `sid` claim of every access token it mints, kept across refreshes
-- in its refresh token's row. Logout ends the session: its ID is listed here, on the user's home shard, until
-- the last access token it can have minted expires; every process polls the list and refuses those tokens.
ALTER TABLE refresh_tokens ADD COLUMN session_id text;

CREATE TABLE revoked_sessions (
    session_id text        PRIMARY KEY,
    user_id    bigint      NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX revoked_sessions_expires_at_idx ON revoked_sessions (expires_at);
