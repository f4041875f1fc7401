-- The ID layout, version 2 (shared/ids.py decodes it): 42 bits of milliseconds since 2025-01-01T00:00:00Z
-- | 11 bits of shard number | 10 bits of a per-shard sequence = 63 bits, so the sign bit of a bigint stays 0
-- until 2164. The 41/13/10 layout of 0001 filled all 64 bits: its IDs would have turned negative in 2059.
-- Shard numbers keep their bit position, so an ID made by the old layout still names its shard (1..2047);
-- IDs made before this migration sort above newer ones, so a local cluster with old rows should be re-created.

ALTER TABLE shard_identity DROP CONSTRAINT shard_identity_shard_number_check;
ALTER TABLE shard_identity ADD CONSTRAINT shard_identity_shard_number_check CHECK (shard_number BETWEEN 1 AND 2047);

-- The layout as a pure function, so tests can ask the database for the ID of any instant.
CREATE FUNCTION id_from_parts(created timestamptz, shard bigint, seq bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    epoch_ms  constant bigint := 1735689600000;
    ms        bigint := floor(extract(epoch FROM created) * 1000)::bigint - epoch_ms;
BEGIN
    -- A shift past bit 63 would wrap silently; refuse instead of minting a negative or unordered ID.
    IF ms < 0 OR ms >= (1::bigint << 42) THEN
        RAISE EXCEPTION 'instant % is outside the ID layout (2025-01-01 to 2164-05-15)', created;
    END IF;
    IF shard < 0 OR shard > 2047 THEN
        RAISE EXCEPTION 'shard number % is outside the ID layout (0 to 2047)', shard;
    END IF;
    RETURN (ms << 21) | (shard << 10) | (seq % 1024);
END;
$$;

CREATE OR REPLACE FUNCTION next_id() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    shard bigint;
BEGIN
    SELECT shard_number INTO STRICT shard FROM shard_identity;
    RETURN id_from_parts(clock_timestamp(), shard, nextval('id_sequence'));
END;
$$;

COMMENT ON FUNCTION next_id() IS 'A new 63-bit ID whose bits name this shard (see shard_identity and 0011).';
