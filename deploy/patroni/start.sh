#!/bin/sh
# docker-compose's entrypoint of a Patroni node: each PATRONI_<ROLE>_PASSWORD_FILE (a mounted secret) becomes
# the PATRONI_<ROLE>_PASSWORD Patroni reads, so no password is written in the compose file; then Patroni runs.
# (Kubernetes runs `patroni` itself, with the passwords from its Secrets.)
set -eu
for role in SUPERUSER REPLICATION REWIND; do
    eval "file=\${PATRONI_${role}_PASSWORD_FILE:-}"
    if [ -n "$file" ]; then
        password=$(cat "$file")
        export "PATRONI_${role}_PASSWORD=$password"
        unset "PATRONI_${role}_PASSWORD_FILE"
    fi
done
exec /opt/patroni/bin/patroni "$@"
