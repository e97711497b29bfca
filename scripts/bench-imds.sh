#!/usr/bin/env bash
# Cached-token requests per second from the demo VM's IMDS, against a bare HTTP server that
# returns the same bytes, with the same load generator (wrk, 1 thread, 16 keep-alive
# connections, 10 s each) in one run. Loopback only; every process started here is stopped
# here, by its PID. Needs wrk (Debian: apt-get install wrk).
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

target/release/azlite --data-dir "$DIR/data" up --listen 127.0.0.1:0 --imds-listen 127.0.0.1:0 \
    --extension-listen 127.0.0.1:0 >"$DIR/up.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do [[ -f "$DIR/data/connection.json" ]] && break; sleep 0.05; done
IMDS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["imds"])' "$DIR/data/connection.json")
URL="$IMDS/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F"
curl -s -H Metadata:true "$URL" >"$DIR/token.json"
test -s "$DIR/token.json"

target/release/examples/bare_http 127.0.0.1:0 "$DIR/token.json" >"$DIR/bare.addr" &
PIDS+=($!)
for _ in $(seq 100); do [[ -s "$DIR/bare.addr" ]] && break; sleep 0.05; done
BARE="http://$(cat "$DIR/bare.addr")/metadata/identity/oauth2/token"

run() { timeout 30 wrk -t1 -c16 -d10s --timeout 5s -H 'Metadata: true' "$1" | awk '/Requests\/sec/ {print $2}'; }
echo "response body: $(wc -c <"$DIR/token.json") bytes"
IMDS_RPS=$(run "$URL")
BARE_RPS=$(run "$BARE")
RSS=$(awk '/VmRSS/ {print $2}' "/proc/${PIDS[0]}/status")
echo "IMDS cached token: $IMDS_RPS req/s"
echo "bare server, same bytes: $BARE_RPS req/s"
python3 -c "import sys; print(f'ratio IMDS/bare: {float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$IMDS_RPS" "$BARE_RPS"
echo "azlite up RSS after the run: $((RSS / 1024)) MiB"
