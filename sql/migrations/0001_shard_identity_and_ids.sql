-- The shard's identity and the 64-bit shard-encoded ID generator (Instagram's layout).
-- Bits: 41 of milliseconds since 2025-01-01T00:00:00Z | 13 of shard number | 10 of a per-shard sequence.
-- shared/ids.py decodes the same layout; keep EPOCH_MS in step.

CREATE TABLE shard_identity (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    shard_number integer NOT NULL CHECK (shard_number BETWEEN 1 AND 8191),
    shard_name   text    NOT NULL
);

CREATE SEQUENCE id_sequence;

CREATE FUNCTION next_id() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    epoch_ms  constant bigint := 1735689600000;
    shard     bigint;
    now_ms    bigint;
    seq       bigint;
BEGIN
    SELECT shard_number INTO STRICT shard FROM shard_identity;
    seq := nextval('id_sequence') % 1024;
    now_ms := floor(extract(epoch FROM clock_timestamp()) * 1000);
    RETURN ((now_ms - epoch_ms) << 23) | (shard << 10) | seq;
END;
$$;

COMMENT ON FUNCTION next_id() IS 'A new 64-bit ID whose bits name this shard (see shard_identity).';

-- Keeps updated_at right on every table that has one.
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
