#!/bin/bash
# A shard primary's first start (run once by the postgres image from /docker-entrypoint-initdb.d): the role the
# replica streams with, and the pg_hba line that lets it in. WAL, replication and two-phase commit settings
# are on the server's command line in docker-compose.yml.
set -eo pipefail
: "${REPLICATION_USER:?}" "${REPLICATION_PASSWORD:?}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     --set=user="$REPLICATION_USER" --set=password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE :"user" WITH REPLICATION LOGIN PASSWORD :'password';
SQL

echo "host replication ${REPLICATION_USER} all scram-sha-256" >> "$PGDATA/pg_hba.conf"
