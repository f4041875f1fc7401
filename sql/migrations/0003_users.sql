-- Users and their profiles; the global email directory.

CREATE TABLE users (
    id            bigint      PRIMARY KEY DEFAULT next_id(),
    email         text        NOT NULL CHECK (email = lower(btrim(email)) AND email LIKE '%_@_%'),
    full_name     text        NOT NULL CHECK (length(btrim(full_name)) BETWEEN 1 AND 200),
    region        text        NOT NULL CHECK (region IN ('NORTH_AMERICA', 'SOUTH_AMERICA', 'EUROPE',
                                                         'AFRICA', 'ASIA', 'OCEANIA')),
    role          text        NOT NULL DEFAULT 'STUDENT' CHECK (role IN ('STUDENT', 'INSTRUCTOR', 'ADMIN')),
    password_hash text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Local uniqueness; global uniqueness is email_directory's job.
CREATE UNIQUE INDEX users_email_key ON users (email);
-- ListUsers: one region, keyset on id.
CREATE INDEX users_region_id_idx ON users (region, id);
CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE user_profiles (
    user_id     bigint      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    headline    text        NOT NULL DEFAULT '' CHECK (length(headline) <= 200),
    bio         text        NOT NULL DEFAULT '' CHECK (length(bio) <= 5000),
    avatar_url  text        NOT NULL DEFAULT '' CHECK (length(avatar_url) <= 2048),
    website_url text        NOT NULL DEFAULT '' CHECK (length(website_url) <= 2048),
    time_zone   text        NOT NULL DEFAULT '' CHECK (length(time_zone) <= 64),
    language    text        NOT NULL DEFAULT '' CHECK (length(language) <= 35),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER user_profiles_set_updated_at BEFORE UPDATE ON user_profiles
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- The global email directory: an email's entry lives on the shard chosen by a hash of the email
-- (shared/sharding.py ShardMap.for_key), whatever the user's home shard; the primary key makes an
-- email unique across all shards. Written in the same cross-shard commit as the user.
CREATE TABLE email_directory (
    email      text        PRIMARY KEY CHECK (email = lower(btrim(email))),
    user_id    bigint      NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_directory_user_id_idx ON email_directory (user_id);
