#!/usr/bin/env bash
# Authorized get-secret requests per second from Key Vault (a valid bearer token of the owner
# for https://vault.azure.net, which the vault's access policy grants get), against a bare
# HTTPS server that returns the same body (same TLS: a leaf from a local CA, ECDSA P-256,
# rustls, hyper HTTP/1.1), with the same load generator (wrk, 1 thread, 16 keep-alive
# connections, 10 s each) in one run. wrk reaches the vault at https://127.0.0.1:<port> with
# the vault's name in `Host` (azlite routes by it; wrk does not verify certificates).
# Loopback only; every process started here is stopped here, by its PID. Needs wrk (Debian:
# apt-get install wrk), curl and python3.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
# Two builds: with --example, cargo builds only that example of the packages named.
cargo build -q --release -p azlite
cargo build -q --release -p azlite-testkit --example bare_http
DIR=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$DIR"; }
trap cleanup EXIT
AZLITE=(target/release/azlite --data-dir "$DIR/data")

"${AZLITE[@]}" up --listen 127.0.0.1:0 --imds-listen 127.0.0.1:0 --extension-listen 127.0.0.1:0 \
    >"$DIR/up.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do [[ -f "$DIR/data/connection.json" ]] && break; sleep 0.05; done
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$DIR/data/connection.json" "$1"; }
HTTPS=$(field https); CA=$(field caCertificate); TENANT=$(field tenantId)
PORT=${HTTPS##*:}
case "$HTTPS" in https://127.0.0.1:*) ;; *) echo "azlite is not on 127.0.0.1: $HTTPS" >&2; exit 1 ;; esac

# The owner makes a vault (and gets every permission in its access policy) and a secret.
VAULT="bench$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')"
SECRET=bench-secret
"${AZLITE[@]}" group create -n bench -l eastus >/dev/null
"${AZLITE[@]}" keyvault create -g bench -n "$VAULT" >/dev/null
"${AZLITE[@]}" keyvault secret set --vault-name "$VAULT" -n "$SECRET" --value "s3cr3t-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" >/dev/null

# The owner's token for Key Vault, from the STS (client credentials, v2 endpoint).
curl -s --cacert "$CA" "$HTTPS/$TENANT/oauth2/v2.0/token" -d grant_type=client_credentials \
    --data-urlencode "client_id=$(field clientId)" --data-urlencode "client_secret=$(field clientSecret)" \
    --data-urlencode scope=https://vault.azure.net/.default >"$DIR/token.json"
TOKEN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' "$DIR/token.json")
HOST="$VAULT.vault.azure.net"
PATH_Q="/secrets/$SECRET?api-version=7.4"
curl -s -f --cacert "$CA" --resolve "$HOST:$PORT:127.0.0.1" -H "Authorization: Bearer $TOKEN" \
    "https://$HOST:$PORT$PATH_Q" >"$DIR/body.json"
test -s "$DIR/body.json"

target/release/examples/bare_http 127.0.0.1:0 "$DIR/body.json" --tls "$DIR/bare-ca" >"$DIR/bare.addr" &
PIDS+=($!)
for _ in $(seq 100); do [[ -s "$DIR/bare.addr" ]] && break; sleep 0.05; done

run() {
    timeout 30 wrk -t1 -c16 -d10s --timeout 5s -H "Host: $HOST" -H "Authorization: Bearer $TOKEN" "$1" \
        >"$DIR/wrk.out"
    # Every answer must be a 200 for the figure to count.
    if grep -q 'Non-2xx' "$DIR/wrk.out"; then cat "$DIR/wrk.out" >&2; echo "non-2xx answers" >&2; exit 1; fi
    awk '/Requests\/sec/ {print $2}' "$DIR/wrk.out"
}
echo "response body: $(wc -c <"$DIR/body.json") bytes"
KV_RPS=$(run "https://127.0.0.1:$PORT$PATH_Q")
BARE_RPS=$(run "https://$(cat "$DIR/bare.addr")$PATH_Q")
RSS=$(awk '/VmRSS/ {print $2}' "/proc/${PIDS[0]}/status")
echo "Key Vault get secret (authorized): $KV_RPS req/s"
echo "bare HTTPS server, same body: $BARE_RPS req/s"
python3 -c "import sys; print(f'ratio Key Vault/bare: {float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$KV_RPS" "$BARE_RPS"
echo "azlite up RSS after the run: $((RSS / 1024)) MiB"
