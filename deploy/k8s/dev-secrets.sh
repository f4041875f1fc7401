#!/usr/bin/env bash
# Prints, as YAML for `kubectl apply -n elearn -f -`, every Secret the manifests reference, with fresh random
# passwords, a new MongoDB keyfile, JWT signing keys (one per signer) and a local CA with one certificate per component.
# For trials only (local overlay): production takes them from its secret store under the same names and keys.
# Needs openssl and kubectl (client only: nothing is sent to a cluster). Usage: dev-secrets.sh [NAMESPACE]
set -euo pipefail
namespace=${1:-elearn}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

secret() { kubectl create secret "$@" --dry-run=client -o yaml; echo ---; }
password() { openssl rand -hex 24; }

secret generic elearn-postgres --from-literal=superuser-password="$(password)" \
  --from-literal=replication-password="$(password)" --from-literal=restapi-password="$(password)" \
  --from-literal=app-username=elearn --from-literal=app-password="$(password)"

# Each service's own PostgreSQL role (elearn_<service>): its password alone, mounted into its pods only; the
# migration Job mounts them all and sets them.
for service in users courses enrollments payments; do
  secret generic "elearn-pg-$service" --from-literal=password="$(password)"
done

openssl rand -base64 756 | tr -d '\n' > keyfile
secret generic elearn-mongo --from-literal=root-username=root --from-literal=root-password="$(password)" \
  --from-literal=app-username=elearn --from-literal=app-password="$(password)" --from-file=keyfile

# An Ed25519 key per signer, as shared/auth/keys.py lays them out: people's tokens (the users service), each
# process's own identity, and the single-sign-on bridge. <signer>.kid names the key, <signer>.pem holds it and
# jwks.json (RFC 8037) publishes every public half with the one signer it may sign for (elearn_signer). Each
# pod mounts the JWKS and only its own keys (deploy/k8s/base/app/*.yaml).
entries=()
jwt_files=()
for signer in people service-users service-courses service-enrollments service-payments service-content \
    service-gateway service-sso; do
  kid="$signer-dev-$(openssl rand -hex 6)"
  openssl genpkey -algorithm ed25519 -out "$signer.pem" 2>/dev/null
  printf '%s\n' "$kid" > "$signer.kid"
  x=$(openssl pkey -in "$signer.pem" -pubout -outform DER | tail -c 32 | base64 | tr '+/' '-_' | tr -d '=\n')
  entries+=("$(printf '{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "%s", "x": "%s", %s}' \
    "$kid" "$x" "\"elearn_signer\": \"$signer\"")")
  jwt_files+=("--from-file=$signer.pem" "--from-file=$signer.kid")
done
(IFS=,; printf '{"keys": [%s]}\n' "${entries[*]}") > jwks.json
secret generic elearn-jwt --from-file=jwks.json "${jwt_files[@]}"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj "/CN=elearn dev CA" \
  -keyout ca.key -out ca.crt 2>/dev/null
for component in gateway users courses enrollments payments content; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$component" \
    -keyout "$component.key" -out "$component.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s,DNS:%s.%s,DNS:%s.%s.svc,DNS:%s.%s.svc.cluster.local\n' \
    "$component" "$component" "$namespace" "$component" "$namespace" "$component" "$namespace" > "$component.ext"
  openssl x509 -req -in "$component.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 \
    -extfile "$component.ext" -out "$component.crt" 2>/dev/null
  secret generic "elearn-tls-$component" --type=kubernetes.io/tls --from-file=tls.crt="$component.crt" \
    --from-file=tls.key="$component.key" --from-file=ca.crt
done
