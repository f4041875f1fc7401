#!/bin/bash
# A shard primary's first start (run once by the postgres image from /docker-entrypoint-initdb.d): the role the
# replica streams with, the pg_hba line that lets it in, and synchronous replication. WAL and two-phase commit
# settings are on the server's command line in docker-compose.yml.
set -eo pipefail
: "${REPLICATION_USER:?}" "${REPLICATION_PASSWORD:?}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     --set=user="$REPLICATION_USER" --set=password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE :"user" WITH REPLICATION LOGIN PASSWORD :'password';
SQL

echo "host replication ${REPLICATION_USER} all scram-sha-256" >> "$PGDATA/pg_hba.conf"

# Synchronous replication: ELEARN_PG_SYNC_STANDBYS names the standbys a commit waits for ("*", the default:
# the shard's replica, whatever its name; empty: asynchronous). Set with ALTER SYSTEM so it takes effect when
# the server starts for real (the image's set-up server must not wait for a standby that cannot connect yet),
# and pg_basebackup copies it to the replica, so a promoted replica keeps the guarantee.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     --set=standbys="${ELEARN_PG_SYNC_STANDBYS-*}" <<'SQL'
ALTER SYSTEM SET synchronous_standby_names = :'standbys';
SQL
