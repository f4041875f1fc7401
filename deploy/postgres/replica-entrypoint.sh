#!/bin/bash
# A shard replica's entrypoint. On first start (empty data folder) it clones its primary with
# pg_basebackup -R (streaming WAL, its own replication slot, primary_conninfo written for it); then it hands
# over to the postgres image's entrypoint, which finds the data folder made and starts a hot standby.
set -eo pipefail
: "${PRIMARY_HOST:?}" "${REPLICATION_USER:?}" "${REPLICATION_PASSWORD:?}" "${REPLICATION_SLOT:?}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  export PGPASSWORD="$REPLICATION_PASSWORD"
  until pg_isready --host="$PRIMARY_HOST" --port=5432 --quiet; do
    echo "replica: waiting for $PRIMARY_HOST"
    sleep 1
  done
  clone() {
    gosu postgres pg_basebackup --host="$PRIMARY_HOST" --port=5432 --username="$REPLICATION_USER" \
      --pgdata="$PGDATA" --write-recovery-conf --wal-method=stream --checkpoint=fast \
      --slot="$REPLICATION_SLOT" "$@"
  }
  # --create-slot fails when an earlier, interrupted clone already made the slot: then use the slot as it is.
  if ! clone --create-slot; then
    find "$PGDATA" -mindepth 1 -delete
    clone
  fi
fi

exec docker-entrypoint.sh "$@"
