#!/usr/bin/env bash
# Blob Storage benchmark (issue 11), azlite against Azurite 3 in the same run with the same load
# generator (wrk, one thread, 16 keep-alive connections, scripts/bench.d/blob_wrk.lua, the same
# 4 KiB body), each reached with an account SAS computed once. Prints:
#   1. 4 KiB PUT (a new name per request) and GET (one blob) at c16 (goal >= 10x Azurite):
#      the headline is like for like, azlite's Azurite drop-in listener (`up --blob-listen`:
#      devstoreaccount1, path-style over plain HTTP, the same SAS as Azurite's) against
#      Azurite over HTTP; a second line gives azlite over TLS (path-style on its IP listener,
#      an account made through ARM, a SAS signed with its key1).
#   2. azlite's PUT and GET after FILL (default 100,000) blobs in the container vs an empty
#      one (goal within 1.5x), on the drop-in listener
#   3. 256 MiB upload (one Put Blob, curl) and download, MB/s (10^6 bytes): azlite over HTTP
#      and TLS, Azurite over HTTP
#   4. azlite's peak RSS during a 1 GiB upload (goal < 100 MiB)
# Sections 1-3 print each run and the median of RUNS (default 3) runs, alternating between
# the sides so that noise from other work on the machine hits all alike; the load average is
# printed with each run.
# AZLITE_BIN picks the azlite binary (default target/$PROFILE/azlite); BEFORE_BIN=<binary>
# adds it to section 1 as a fourth side (its own data directory and drop-in listener), for a
# before/after comparison in the same run.
# SECTIONS picks the sections to run (default 1234; SECTIONS=1 is a quick PUT/GET check).
# Loopback only. Bounded: every wrk run has -d and a count bound, every curl a --max-time.
# Stops only the processes it started, by PID. Needs wrk (apt-get install wrk), node and npm
# (Azurite is installed into a temporary folder), curl, and .venv (azure-storage-blob).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is needed (Azurite is installed with it)" >&2; exit 1; }
PY=${PYTHON:-.venv/bin/python}
DUR=${DUR:-10s}
FILL=${FILL:-100000}
BIG_MIB=${BIG_MIB:-256}
HUGE_MIB=${HUGE_MIB:-1024}
PROFILE=${PROFILE:-release}  # PROFILE=debug (with small DUR/FILL/sizes) checks the script quickly
AZLITE_BIN=${AZLITE_BIN:-target/$PROFILE/azlite}
BEFORE_BIN=${BEFORE_BIN:-}
DROPIN_PORT=${DROPIN_PORT:-10100}  # azlite's drop-in listener (BEFORE_BIN's: DROPIN_PORT + 1)
LUA=$PWD/scripts/bench.d/blob_wrk.lua

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
if [[ -z "${SKIP_BUILD:-}" && "$AZLITE_BIN" == target/"$PROFILE"/azlite ]]; then
    # SKIP_BUILD=1: use the binary already in target/$PROFILE
    if [[ "$PROFILE" == release ]]; then cargo build -q --release -p azlite; else cargo build -q -p azlite; fi
fi
DIR=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$DIR"; }
trap cleanup EXIT

echo "installing Azurite 3 into $DIR/azurite ..."
npm install -s --no-audit --no-fund --prefix "$DIR/azurite" 'azurite@3' >"$DIR/npm.log" 2>&1 \
    || { cat "$DIR/npm.log" >&2; exit 1; }
AZURITE_JS="$DIR/azurite/node_modules/azurite/dist/src/blob/main.js"

# start_azlite <binary> <data dir> <drop-in port>: starts `azlite up` in the background (its
# PID in STARTED_PID) and waits for its connection.json.
start_azlite() {
    "$1" --data-dir "$2" up --listen 127.0.0.1:0 --imds-listen 127.0.0.1:0 \
        --extension-listen 127.0.0.1:0 --arc-listen 127.0.0.1:0 --blob-listen "127.0.0.1:$3" \
        >"$2.log" 2>&1 &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
    for _ in $(seq 200); do [[ -f "$2/connection.json" ]] && break; sleep 0.05; done
    for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$3") 2>/dev/null && break; sleep 0.05; done
}
AZLITE=("$AZLITE_BIN" --data-dir "$DIR/data")
start_azlite "$AZLITE_BIN" "$DIR/data" "$DROPIN_PORT"
AZLITE_PID=$STARTED_PID
HTTPS=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["https"])' "$DIR/data/connection.json")
case "$HTTPS" in https://127.0.0.1:*) ;; *) echo "azlite is not on 127.0.0.1: $HTTPS" >&2; exit 1 ;; esac
ACCOUNT="bench$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')"
"${AZLITE[@]}" group create -n bench -l eastus >/dev/null
"${AZLITE[@]}" storage account create -g bench -n "$ACCOUNT" --sku Standard_LRS >/dev/null
KEY=$("${AZLITE[@]}" storage account keys list -n "$ACCOUNT" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["value"])')
"${AZLITE[@]}" storage container create --account-name "$ACCOUNT" -n bench >/dev/null
TLS_SAS=$("$PY" scripts/bench.d/blob_sas.py "$ACCOUNT" "$KEY")
TLS_URL="$HTTPS"
TLS_PATH="/$ACCOUNT"

AZURITE_PORT=${AZURITE_PORT:-10000}
AZURITE_URL="http://127.0.0.1:$AZURITE_PORT"
AZURITE_PATH=/devstoreaccount1
AZURITE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
AZURITE_SAS=$("$PY" scripts/bench.d/blob_sas.py devstoreaccount1 "$AZURITE_KEY")
AZURITE_PID=""
start_azurite() {
    mkdir -p "$DIR/azurite-cwd"
    (cd "$DIR/azurite-cwd" && exec node "$AZURITE_JS" --blobHost 127.0.0.1 --blobPort "$AZURITE_PORT" \
        --inMemoryPersistence --skipApiVersionCheck --loose --silent --disableTelemetry >>"$DIR/azurite.log" 2>&1) &
    AZURITE_PID=$!
    PIDS+=("$AZURITE_PID")
    for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$AZURITE_PORT") 2>/dev/null && break; sleep 0.05; done
    curl -sf --max-time 10 -X PUT -H 'x-ms-version: 2021-08-06' -H 'Content-Length: 0' \
        "$AZURITE_URL$AZURITE_PATH/bench?restype=container&$AZURITE_SAS" >/dev/null
}
stop_azurite() { kill "$AZURITE_PID"; wait "$AZURITE_PID" 2>/dev/null || true; AZURITE_PID=""; }

# put_one <url-base> <path> <sas> <file> [curl args]: one Put Blob, prints MB/s.
put_one() {
    curl -sfk --max-time 600 -X PUT -T "$4" -H 'x-ms-version: 2021-08-06' -H 'x-ms-blob-type: BlockBlob' \
        -o /dev/null -w '%{speed_upload}' "$1$2?$3" | awk '{printf "%.0f", $1 / 1e6}'
}
get_one() {
    curl -sfk --max-time 600 -H 'x-ms-version: 2021-08-06' -o /dev/null -w '%{speed_download}' "$1$2?$3" \
        | awk '{printf "%.0f", $1 / 1e6}'
}
# rate <url-base> <get|put> <path> <sas> <tag> [max]: requests/s of one wrk run (bounded by
# DUR; the count bound is a safety net far above what DUR allows).
rate() {
    local out
    out=$(timeout 700 wrk -t1 -c16 -d"$DUR" --timeout 10s -s "$LUA" "$1" -- "$2" "$3" "$4" "$5" "${6:-2000000}")
    local line; line=$(grep '^RESULT' <<<"$out" || echo 'RESULT rps=0 (no result)')
    [[ "$line" == *" non2xx=0 errors=0"* ]] || echo "  (wrk: $line)" >&2
    sed -E 's/.* rps=([0-9.]+).*/\1/' <<<"$line"
}
# count_blobs <url-base> <container path> <sas>: the blobs listed (List Blobs, 5000 a page).
count_blobs() {
    "$PY" - "$1$2" "$3" <<'PY'
import re, ssl, sys, urllib.request
base, sas = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
total, marker = 0, ""
while True:
    url = f"{base}?restype=container&comp=list&maxresults=5000&{sas}" + (f"&marker={marker}" if marker else "")
    request = urllib.request.Request(url, headers={"x-ms-version": "2021-08-06"})
    with urllib.request.urlopen(request, context=ctx, timeout=120) as r:
        text = r.read().decode()
    total += text.count("<Blob>")
    m = re.search(r"<NextMarker>([^<]+)</NextMarker>", text)
    if not m:
        break
    marker = urllib.parse.quote(m.group(1), safe="")
print(total)
PY
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }

# median <numbers...>: the middle value (the lower middle of an even count).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
RUNS=${RUNS:-3}
SECTIONS=${SECTIONS:-1234}

head -c 4096 /dev/urandom >"$DIR/4k"
# The drop-in listener serves devstoreaccount1 with Azurite's key: Azurite's SAS works on both.
HTTP_URL="http://127.0.0.1:$DROPIN_PORT"
HTTP_PATH=/devstoreaccount1
HTTP_SAS=$AZURITE_SAS
# mkcontainer <url-base> <path> <sas> <name>: Create Container (an existing one is fine).
mkcontainer() {
    curl -sk --max-time 10 -o /dev/null -X PUT -H 'x-ms-version: 2021-08-06' -H 'Content-Length: 0' \
        "$1$2/$4?restype=container&$3"
}
mkcontainer "$HTTP_URL" "$HTTP_PATH" "$HTTP_SAS" bench
put_one "$HTTP_URL" "$HTTP_PATH/bench/get4k" "$HTTP_SAS" "$DIR/4k" >/dev/null
put_one "$TLS_URL" "$TLS_PATH/bench/get4k" "$TLS_SAS" "$DIR/4k" >/dev/null
BEFORE_URL=""
if [[ -n "$BEFORE_BIN" ]]; then
    start_azlite "$BEFORE_BIN" "$DIR/before" $((DROPIN_PORT + 1))
    BEFORE_URL="http://127.0.0.1:$((DROPIN_PORT + 1))"
    mkcontainer "$BEFORE_URL" "$HTTP_PATH" "$HTTP_SAS" bench
    put_one "$BEFORE_URL" "$HTTP_PATH/bench/get4k" "$HTTP_SAS" "$DIR/4k" >/dev/null
fi

if [[ "$SECTIONS" == *1* ]]; then
echo "== 1. 4 KiB at 16 connections, $DUR each, $RUNS alternating runs, median (req/s)"
echo "   (Azurite restarted empty before each of its runs: its best case)"
ZL_PUTS=(); ZT_PUTS=(); ZB_PUTS=(); AR_PUTS=(); ZL_GETS=(); ZT_GETS=(); ZB_GETS=(); AR_GETS=()
for run in $(seq "$RUNS"); do
    ZL_PUTS+=("$(rate "$HTTP_URL" put "$HTTP_PATH/bench/" "$HTTP_SAS" "p$run-$RANDOM")")
    ZT_PUTS+=("$(rate "$TLS_URL" put "$TLS_PATH/bench/" "$TLS_SAS" "p$run-$RANDOM")")
    [[ -n "$BEFORE_URL" ]] && ZB_PUTS+=("$(rate "$BEFORE_URL" put "$HTTP_PATH/bench/" "$HTTP_SAS" "p$run-$RANDOM")")
    start_azurite
    put_one "$AZURITE_URL" "$AZURITE_PATH/bench/get4k" "$AZURITE_SAS" "$DIR/4k" >/dev/null
    AR_PUTS+=("$(rate "$AZURITE_URL" put "$AZURITE_PATH/bench/" "$AZURITE_SAS" "p$run-$RANDOM")")
    stop_azurite
    ZL_GETS+=("$(rate "$HTTP_URL" get "$HTTP_PATH/bench/get4k" "$HTTP_SAS" g)")
    ZT_GETS+=("$(rate "$TLS_URL" get "$TLS_PATH/bench/get4k" "$TLS_SAS" g)")
    [[ -n "$BEFORE_URL" ]] && ZB_GETS+=("$(rate "$BEFORE_URL" get "$HTTP_PATH/bench/get4k" "$HTTP_SAS" g)")
    start_azurite
    put_one "$AZURITE_URL" "$AZURITE_PATH/bench/get4k" "$AZURITE_SAS" "$DIR/4k" >/dev/null
    AR_GETS+=("$(rate "$AZURITE_URL" get "$AZURITE_PATH/bench/get4k" "$AZURITE_SAS" g)")
    stop_azurite
    before=""
    [[ -n "$BEFORE_URL" ]] && before=" before(HTTP) ${ZB_PUTS[-1]}/${ZB_GETS[-1]}"
    echo "   run $run: PUT azlite HTTP ${ZL_PUTS[-1]} TLS ${ZT_PUTS[-1]} Azurite ${AR_PUTS[-1]};" \
        "GET azlite HTTP ${ZL_GETS[-1]} TLS ${ZT_GETS[-1]} Azurite ${AR_GETS[-1]};$before" \
        "(load $(cut -d' ' -f1 /proc/loadavg))"
done
ZL_PUT=$(median "${ZL_PUTS[@]}"); ZT_PUT=$(median "${ZT_PUTS[@]}"); AR_PUT=$(median "${AR_PUTS[@]}")
ZL_GET=$(median "${ZL_GETS[@]}"); ZT_GET=$(median "${ZT_GETS[@]}"); AR_GET=$(median "${AR_GETS[@]}")
printf '  PUT  azlite HTTP %8.0f  Azurite HTTP %6.0f  ratio %sx (goal >= 10x)\n' "$ZL_PUT" "$AR_PUT" "$(ratio "$ZL_PUT" "$AR_PUT")"
printf '  GET  azlite HTTP %8.0f  Azurite HTTP %6.0f  ratio %sx (goal >= 10x)\n' "$ZL_GET" "$AR_GET" "$(ratio "$ZL_GET" "$AR_GET")"
printf '  PUT  azlite TLS  %8.0f  Azurite HTTP %6.0f  ratio %sx\n' "$ZT_PUT" "$AR_PUT" "$(ratio "$ZT_PUT" "$AR_PUT")"
printf '  GET  azlite TLS  %8.0f  Azurite HTTP %6.0f  ratio %sx\n' "$ZT_GET" "$AR_GET" "$(ratio "$ZT_GET" "$AR_GET")"
if [[ -n "$BEFORE_URL" ]]; then
    ZB_PUT=$(median "${ZB_PUTS[@]}"); ZB_GET=$(median "${ZB_GETS[@]}")
    printf '  before (%s) over HTTP: PUT %.0f (after/before %sx), GET %.0f (after/before %sx)\n' \
        "$BEFORE_BIN" "$ZB_PUT" "$(ratio "$ZL_PUT" "$ZB_PUT")" "$ZB_GET" "$(ratio "$ZL_GET" "$ZB_GET")"
fi
fi

if [[ "$SECTIONS" == *2* ]]; then
echo "== 2. azlite (drop-in listener) after $FILL blobs in the container vs an empty one, $RUNS alternating runs, median (req/s)"
mkcontainer "$HTTP_URL" "$HTTP_PATH" "$HTTP_SAS" full
put_one "$HTTP_URL" "$HTTP_PATH/full/get4k" "$HTTP_SAS" "$DIR/4k" >/dev/null
# Fill with concurrent PUTs (wrk stops itself after the count; runs of at most 60 s) until
# the container lists FILL blobs (at most 20 runs).
filled=$(count_blobs "$HTTP_URL" "$HTTP_PATH/full" "$HTTP_SAS")
for _ in $(seq 20); do
    (( filled >= FILL )) && break
    DUR=60s rate "$HTTP_URL" put "$HTTP_PATH/full/" "$HTTP_SAS" "fill$RANDOM" $((FILL - filled)) >/dev/null
    filled=$(count_blobs "$HTTP_URL" "$HTTP_PATH/full" "$HTTP_SAS")
done
echo "  the full container holds $filled blobs"
E_PUTS=(); F_PUTS=(); E_GETS=(); F_GETS=()
for run in $(seq "$RUNS"); do
    # A new empty container per run: a PUT run itself adds tens of thousands of blobs.
    mkcontainer "$HTTP_URL" "$HTTP_PATH" "$HTTP_SAS" "empty$run"
    put_one "$HTTP_URL" "$HTTP_PATH/empty$run/get4k" "$HTTP_SAS" "$DIR/4k" >/dev/null
    E_GETS+=("$(rate "$HTTP_URL" get "$HTTP_PATH/empty$run/get4k" "$HTTP_SAS" g)")
    F_GETS+=("$(rate "$HTTP_URL" get "$HTTP_PATH/full/get4k" "$HTTP_SAS" g)")
    E_PUTS+=("$(rate "$HTTP_URL" put "$HTTP_PATH/empty$run/" "$HTTP_SAS" "e$run-$RANDOM")")
    F_PUTS+=("$(rate "$HTTP_URL" put "$HTTP_PATH/full/" "$HTTP_SAS" "f$run-$RANDOM")")
    echo "   run $run: PUT empty ${E_PUTS[-1]} full ${F_PUTS[-1]}; GET empty ${E_GETS[-1]} full ${F_GETS[-1]} (load $(cut -d' ' -f1 /proc/loadavg))"
done
E_PUT=$(median "${E_PUTS[@]}"); F_PUT=$(median "${F_PUTS[@]}")
E_GET=$(median "${E_GETS[@]}"); F_GET=$(median "${F_GETS[@]}")
printf '  PUT  empty %10.0f  full %10.0f  slowdown %sx (goal <= 1.5x)\n' "$E_PUT" "$F_PUT" "$(ratio "$E_PUT" "$F_PUT")"
printf '  GET  empty %10.0f  full %10.0f  slowdown %sx (goal <= 1.5x)\n' "$E_GET" "$F_GET" "$(ratio "$E_GET" "$F_GET")"
fi

if [[ "$SECTIONS" == *3* ]]; then
echo "== 3. $BIG_MIB MiB, one Put Blob and one Get Blob with curl, $RUNS alternating runs, median (MB/s)"
head -c $((BIG_MIB * 1024 * 1024)) /dev/urandom >"$DIR/256m"
ZL_UPS=(); ZL_DOWNS=(); ZT_UPS=(); ZT_DOWNS=(); AR_UPS=(); AR_DOWNS=()
start_azurite
for run in $(seq "$RUNS"); do
    ZL_UPS+=("$(put_one "$HTTP_URL" "$HTTP_PATH/bench/big$run" "$HTTP_SAS" "$DIR/256m")")
    ZT_UPS+=("$(put_one "$TLS_URL" "$TLS_PATH/bench/big$run" "$TLS_SAS" "$DIR/256m")")
    AR_UPS+=("$(put_one "$AZURITE_URL" "$AZURITE_PATH/bench/big$run" "$AZURITE_SAS" "$DIR/256m")")
    ZL_DOWNS+=("$(get_one "$HTTP_URL" "$HTTP_PATH/bench/big$run" "$HTTP_SAS")")
    ZT_DOWNS+=("$(get_one "$TLS_URL" "$TLS_PATH/bench/big$run" "$TLS_SAS")")
    AR_DOWNS+=("$(get_one "$AZURITE_URL" "$AZURITE_PATH/bench/big$run" "$AZURITE_SAS")")
    echo "   run $run: upload azlite HTTP ${ZL_UPS[-1]} TLS ${ZT_UPS[-1]} Azurite ${AR_UPS[-1]};" \
        "download azlite HTTP ${ZL_DOWNS[-1]} TLS ${ZT_DOWNS[-1]} Azurite ${AR_DOWNS[-1]} (load $(cut -d' ' -f1 /proc/loadavg))"
done
stop_azurite
printf '  upload    azlite HTTP %6s MB/s  TLS %6s MB/s  Azurite HTTP %6s MB/s\n' \
    "$(median "${ZL_UPS[@]}")" "$(median "${ZT_UPS[@]}")" "$(median "${AR_UPS[@]}")"
printf '  download  azlite HTTP %6s MB/s  TLS %6s MB/s  Azurite HTTP %6s MB/s\n' \
    "$(median "${ZL_DOWNS[@]}")" "$(median "${ZT_DOWNS[@]}")" "$(median "${AR_DOWNS[@]}")"
rm -f "$DIR/256m"
fi

if [[ "$SECTIONS" == *4* ]]; then
echo "== 4. azlite's RSS during a $HUGE_MIB MiB upload"
head -c $((HUGE_MIB * 1024 * 1024)) /dev/zero >"$DIR/1g"
rss() { awk '/VmRSS/ { print $2 }' "/proc/$AZLITE_PID/status"; }
BEFORE=$(rss)
put_one "$HTTP_URL" "$HTTP_PATH/bench/huge" "$HTTP_SAS" "$DIR/1g" >"$DIR/huge.speed" &
CURL_PID=$!
PEAK=$BEFORE
while kill -0 "$CURL_PID" 2>/dev/null; do
    NOW=$(rss); (( NOW > PEAK )) && PEAK=$NOW
    sleep 0.05
done
wait "$CURL_PID"
printf '  RSS before %d MiB, peak during the upload %d MiB (goal < 100 MiB); upload %s MB/s\n' \
    $((BEFORE / 1024)) $((PEAK / 1024)) "$(cat "$DIR/huge.speed")"
rm -f "$DIR/1g"
fi

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
