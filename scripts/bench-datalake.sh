#!/usr/bin/env bash
# Data Lake Store Gen1 benchmark (issue 12): azlite's WebHDFS against this machine's disk
# floor, measured by this script in the same data directory. Prints:
#   1. sequential 100 MiB upload (CREATE, then 4 MiB APPENDs at their offsets, the last
#      with syncFlag=CLOSE, as azure-datalake-store writes) and download (OPEN), MB/s, next
#      to `dd conv=fsync` of the same size (the disk floor for a durable sequential write)
#   2. LISTSTATUS of a folder of 10,000 files (paged 4000 at a time, as clients page it):
#      p50 latency over LIST_RUNS calls
#   3. small files per second: CREATE of a 4 KiB file (one request with its body, which
#      also closes it) at 16 connections with wrk, next to a python loop that creates,
#      writes, fsyncs and renames 4 KiB files (the floor for one durable file per request)
# Sections 1 and 3 print each run and the median of RUNS (default 3), alternating with the
# floor. Reached as the owner (a token for https://datalake.azure.net/ from azlite's STS),
# over TLS on 127.0.0.1 with the account's host name as SNI and Host (never resolved).
# Loopback only. Bounded: wrk has -d and a count, every request a timeout. Stops only the
# processes it started, by PID. Needs wrk, curl and python3.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
PY=${PYTHON:-python3}
DUR=${DUR:-10s}
RUNS=${RUNS:-3}
BIG_MIB=${BIG_MIB:-100}
LIST_FILES=${LIST_FILES:-10000}
LIST_RUNS=${LIST_RUNS:-5}
PROFILE=${PROFILE:-release}
LUA=$PWD/scripts/bench.d/blob_wrk.lua
LOAD=$PWD/scripts/bench.d/dls_load.py

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
if [[ -z "${SKIP_BUILD:-}" ]]; then
    if [[ "$PROFILE" == release ]]; then cargo build -q --release -p azlite; else cargo build -q -p azlite; fi
fi
DIR=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$DIR"; }
trap cleanup EXIT

AZLITE=(target/"$PROFILE"/azlite --data-dir "$DIR/data")
"${AZLITE[@]}" up --listen 127.0.0.1:0 --imds-listen 127.0.0.1:0 --extension-listen 127.0.0.1:0 \
    >"$DIR/up.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 200); do [[ -f "$DIR/data/connection.json" ]] && break; sleep 0.05; done
CONN="$DIR/data/connection.json"
field() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$CONN" "$1"; }
HTTPS=$(field https)
case "$HTTPS" in https://127.0.0.1:*) ;; *) echo "azlite is not on 127.0.0.1: $HTTPS" >&2; exit 1 ;; esac
ACCOUNT="bench$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')"
HOST="$ACCOUNT.azuredatalakestore.net"
"${AZLITE[@]}" group create -n bench -l eastus2 >/dev/null
"${AZLITE[@]}" dls account create -g bench -n "$ACCOUNT" >/dev/null
"${AZLITE[@]}" dls fs mkdir --account "$ACCOUNT" --path /bench >/dev/null
TOKEN=$(curl -sf --max-time 30 --cacert "$(field caCertificate)" "$HTTPS/$(field tenantId)/oauth2/v2.0/token" \
    --data-urlencode grant_type=client_credentials --data-urlencode "client_id=$(field clientId)" \
    --data-urlencode "client_secret=$(field clientSecret)" --data-urlencode scope=https://datalake.azure.net//.default \
    | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
lake() { "$PY" "$LOAD" "$CONN" "$ACCOUNT" "$TOKEN" "$@"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "== 1. $BIG_MIB MiB sequential, $RUNS alternating runs, median (MB/s)"
head -c $((BIG_MIB * 1024 * 1024)) /dev/urandom >"$DIR/big"
UPS=(); DOWNS=(); FLOORS=()
for run in $(seq "$RUNS"); do
    FLOORS+=("$(dd if="$DIR/big" of="$DIR/data/floor.bin" bs=4M conv=fsync 2>&1 \
        | awk '/bytes/ { for (i = 1; i <= NF; i++) if ($i ~ /^s,?$/) t = $(i - 1); printf "%.0f", $1 / t / 1e6 }')")
    rm -f "$DIR/data/floor.bin"
    UPS+=("$(lake upload "$DIR/big" "/bench/big$run")")
    DOWNS+=("$(lake download "/bench/big$run" $((BIG_MIB * 1024 * 1024)))")
    echo "   run $run: disk floor (dd conv=fsync) ${FLOORS[-1]}  upload ${UPS[-1]}  download ${DOWNS[-1]} (load $(cut -d' ' -f1 /proc/loadavg))"
done
UP=$(median "${UPS[@]}"); DOWN=$(median "${DOWNS[@]}"); FLOOR=$(median "${FLOORS[@]}")
printf '  upload %6s MB/s  download %6s MB/s  disk floor %6s MB/s  (upload / floor %s)\n' \
    "$UP" "$DOWN" "$FLOOR" "$(ratio "$UP" "$FLOOR")"
rm -f "$DIR/big"

echo "== 2. LISTSTATUS of a folder of $LIST_FILES files"
"${AZLITE[@]}" dls fs mkdir --account "$ACCOUNT" --path /bench/list >/dev/null
FILL_RATE=$(lake fill /bench/list "$LIST_FILES")
read -r LIST_MS LISTED < <(lake list /bench/list "$LIST_RUNS")
echo "  filled with empty CREATEs at $FILL_RATE files/s (16 python threads: client-bound)"
echo "  p50 of $LIST_RUNS listings: $LIST_MS ms for $LISTED entries"

echo "== 3. small files: CREATE with a 4 KiB body, 16 connections, $DUR each, $RUNS alternating runs, median (files/s)"
"${AZLITE[@]}" dls fs mkdir --account "$ACCOUNT" --path /bench/small >/dev/null
floor_files() {
    "$PY" - "$DIR/data/floor" <<'PY'
import os, sys, time
root = sys.argv[1]
os.makedirs(root, exist_ok=True)
data, n, started = b"x" * 4096, 0, time.perf_counter()
while time.perf_counter() - started < 5 and n < 100000:
    tmp, final = f"{root}/t{n}", f"{root}/f{n}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, data); os.fsync(fd); os.close(fd)
    os.rename(tmp, final)
    n += 1
print(f"{n / (time.perf_counter() - started):.0f}")
PY
    rm -rf "$DIR/data/floor"
}
CREATES=(); FILE_FLOORS=()
for run in $(seq "$RUNS"); do
    FILE_FLOORS+=("$(floor_files)")
    out=$(timeout 700 wrk -t1 -c16 -d"$DUR" --timeout 10s -s "$LUA" -H "Host: $HOST" -H "Authorization: Bearer $TOKEN" \
        "$HTTPS" -- put "/webhdfs/v1/bench/small/" "op=CREATE&overwrite=true&write=true" "r$run-" 2000000)
    line=$(grep '^RESULT' <<<"$out" || echo 'RESULT rps=0 (no result)')
    [[ "$line" == *" non2xx=0 errors=0"* ]] || echo "  (wrk: $line)" >&2
    CREATES+=("$(sed -E 's/.* rps=([0-9.]+).*/\1/' <<<"$line" | awk '{printf "%.0f", $1}')")
    echo "   run $run: CREATE ${CREATES[-1]}/s  floor (create+write+fsync+rename, one thread) ${FILE_FLOORS[-1]}/s (load $(cut -d' ' -f1 /proc/loadavg))"
done
printf '  CREATE %s files/s  floor %s files/s\n' "$(median "${CREATES[@]}")" "$(median "${FILE_FLOORS[@]}")"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
