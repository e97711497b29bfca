#!/usr/bin/env bash
# Blob Storage benchmark (issue 11), azlite against Azurite 3 in the same run with the same load
# generator (wrk, one thread, 16 keep-alive connections, scripts/bench.d/blob_wrk.lua), each
# reached with an account SAS computed once (azlite: signed with the account's key1 from
# listKeys; Azurite: devstoreaccount1's public key). Prints:
#   1. 4 KiB PUT (a new name per request) and GET (one blob) at c16, azlite / Azurite (goal >= 10x)
#   2. azlite's PUT and GET after 100,000 blobs in the container vs an empty one (goal within 1.5x)
#   3. 256 MiB upload (one Put Blob, curl) and download, MB/s (10^6 bytes), both servers
# Sections 1-3 print each run and the median of RUNS (default 3) runs, alternating between
# the two sides so that noise from other work on the machine hits both alike.
#   4. azlite's peak RSS during a 1 GiB upload (goal < 100 MiB)
# azlite is reached over TLS (path-style on its IP listener, as every account is served there);
# Azurite over plain HTTP: the comparison is, if anything, unfair to azlite.
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
LUA=$PWD/scripts/bench.d/blob_wrk.lua

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
if [[ -z "${SKIP_BUILD:-}" ]]; then  # SKIP_BUILD=1: use the binary already in target/$PROFILE
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

AZLITE=(target/"$PROFILE"/azlite --data-dir "$DIR/data")
"${AZLITE[@]}" up --listen 127.0.0.1:0 --imds-listen 127.0.0.1:0 --extension-listen 127.0.0.1:0 \
    >"$DIR/up.log" 2>&1 &
AZLITE_PID=$!
PIDS+=("$AZLITE_PID")
for _ in $(seq 200); do [[ -f "$DIR/data/connection.json" ]] && break; sleep 0.05; done
HTTPS=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["https"])' "$DIR/data/connection.json")
case "$HTTPS" in https://127.0.0.1:*) ;; *) echo "azlite is not on 127.0.0.1: $HTTPS" >&2; exit 1 ;; esac
ACCOUNT="bench$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')"
"${AZLITE[@]}" group create -n bench -l eastus >/dev/null
"${AZLITE[@]}" storage account create -g bench -n "$ACCOUNT" --sku Standard_LRS >/dev/null
KEY=$("${AZLITE[@]}" storage account keys list -n "$ACCOUNT" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["value"])')
"${AZLITE[@]}" storage container create --account-name "$ACCOUNT" -n bench >/dev/null
"${AZLITE[@]}" storage container create --account-name "$ACCOUNT" -n full >/dev/null
AZLITE_SAS=$("$PY" scripts/bench.d/blob_sas.py "$ACCOUNT" "$KEY")
AZLITE_URL="$HTTPS"
AZLITE_PATH="/$ACCOUNT"

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

head -c 4096 /dev/urandom >"$DIR/4k"
put_one "$AZLITE_URL" "$AZLITE_PATH/bench/get4k" "$AZLITE_SAS" "$DIR/4k" >/dev/null

echo "== 1. 4 KiB at 16 connections, $DUR each, $RUNS alternating runs, median (req/s)"
echo "   (Azurite restarted empty before each of its runs: its best case)"
ZL_PUTS=(); AR_PUTS=(); ZL_GETS=(); AR_GETS=()
for run in $(seq "$RUNS"); do
    ZL_PUTS+=("$(rate "$AZLITE_URL" put "$AZLITE_PATH/bench/" "$AZLITE_SAS" "p$run-$RANDOM")")
    start_azurite
    put_one "$AZURITE_URL" "$AZURITE_PATH/bench/get4k" "$AZURITE_SAS" "$DIR/4k" >/dev/null
    AR_PUTS+=("$(rate "$AZURITE_URL" put "$AZURITE_PATH/bench/" "$AZURITE_SAS" "p$run-$RANDOM")")
    stop_azurite
    ZL_GETS+=("$(rate "$AZLITE_URL" get "$AZLITE_PATH/bench/get4k" "$AZLITE_SAS" g)")
    start_azurite
    put_one "$AZURITE_URL" "$AZURITE_PATH/bench/get4k" "$AZURITE_SAS" "$DIR/4k" >/dev/null
    AR_GETS+=("$(rate "$AZURITE_URL" get "$AZURITE_PATH/bench/get4k" "$AZURITE_SAS" g)")
    stop_azurite
    echo "   run $run: PUT azlite ${ZL_PUTS[-1]} Azurite ${AR_PUTS[-1]}; GET azlite ${ZL_GETS[-1]} Azurite ${AR_GETS[-1]} (load $(cut -d' ' -f1 /proc/loadavg))"
done
ZL_PUT=$(median "${ZL_PUTS[@]}"); AR_PUT=$(median "${AR_PUTS[@]}")
ZL_GET=$(median "${ZL_GETS[@]}"); AR_GET=$(median "${AR_GETS[@]}")
printf '  PUT  azlite %10.0f  Azurite %8.0f  ratio %sx (goal >= 10x)\n' "$ZL_PUT" "$AR_PUT" "$(ratio "$ZL_PUT" "$AR_PUT")"
printf '  GET  azlite %10.0f  Azurite %8.0f  ratio %sx (goal >= 10x)\n' "$ZL_GET" "$AR_GET" "$(ratio "$ZL_GET" "$AR_GET")"

echo "== 2. azlite after $FILL blobs in the container vs an empty one, $RUNS alternating runs, median (req/s)"
put_one "$AZLITE_URL" "$AZLITE_PATH/full/get4k" "$AZLITE_SAS" "$DIR/4k" >/dev/null
# Fill with concurrent PUTs (wrk stops itself after the count; runs of at most 60 s) until
# the container lists FILL blobs (at most 20 runs).
filled=$(count_blobs "$AZLITE_URL" "$AZLITE_PATH/full" "$AZLITE_SAS")
for _ in $(seq 20); do
    (( filled >= FILL )) && break
    DUR=60s rate "$AZLITE_URL" put "$AZLITE_PATH/full/" "$AZLITE_SAS" "fill$RANDOM" $((FILL - filled)) >/dev/null
    filled=$(count_blobs "$AZLITE_URL" "$AZLITE_PATH/full" "$AZLITE_SAS")
done
echo "  the full container holds $filled blobs"
E_PUTS=(); F_PUTS=(); E_GETS=(); F_GETS=()
for run in $(seq "$RUNS"); do
    # A new empty container per run: a PUT run itself adds tens of thousands of blobs.
    "${AZLITE[@]}" storage container create --account-name "$ACCOUNT" -n "empty$run" >/dev/null
    put_one "$AZLITE_URL" "$AZLITE_PATH/empty$run/get4k" "$AZLITE_SAS" "$DIR/4k" >/dev/null
    E_GETS+=("$(rate "$AZLITE_URL" get "$AZLITE_PATH/empty$run/get4k" "$AZLITE_SAS" g)")
    F_GETS+=("$(rate "$AZLITE_URL" get "$AZLITE_PATH/full/get4k" "$AZLITE_SAS" g)")
    E_PUTS+=("$(rate "$AZLITE_URL" put "$AZLITE_PATH/empty$run/" "$AZLITE_SAS" "e$run-$RANDOM")")
    F_PUTS+=("$(rate "$AZLITE_URL" put "$AZLITE_PATH/full/" "$AZLITE_SAS" "f$run-$RANDOM")")
    echo "   run $run: PUT empty ${E_PUTS[-1]} full ${F_PUTS[-1]}; GET empty ${E_GETS[-1]} full ${F_GETS[-1]} (load $(cut -d' ' -f1 /proc/loadavg))"
done
E_PUT=$(median "${E_PUTS[@]}"); F_PUT=$(median "${F_PUTS[@]}")
E_GET=$(median "${E_GETS[@]}"); F_GET=$(median "${F_GETS[@]}")
printf '  PUT  empty %10.0f  full %10.0f  slowdown %sx (goal <= 1.5x)\n' "$E_PUT" "$F_PUT" "$(ratio "$E_PUT" "$F_PUT")"
printf '  GET  empty %10.0f  full %10.0f  slowdown %sx (goal <= 1.5x)\n' "$E_GET" "$F_GET" "$(ratio "$E_GET" "$F_GET")"

echo "== 3. $BIG_MIB MiB, one Put Blob and one Get Blob with curl, $RUNS alternating runs, median (MB/s)"
head -c $((BIG_MIB * 1024 * 1024)) /dev/urandom >"$DIR/256m"
ZL_UPS=(); ZL_DOWNS=(); AR_UPS=(); AR_DOWNS=()
start_azurite
for run in $(seq "$RUNS"); do
    ZL_UPS+=("$(put_one "$AZLITE_URL" "$AZLITE_PATH/bench/big$run" "$AZLITE_SAS" "$DIR/256m")")
    AR_UPS+=("$(put_one "$AZURITE_URL" "$AZURITE_PATH/bench/big$run" "$AZURITE_SAS" "$DIR/256m")")
    ZL_DOWNS+=("$(get_one "$AZLITE_URL" "$AZLITE_PATH/bench/big$run" "$AZLITE_SAS")")
    AR_DOWNS+=("$(get_one "$AZURITE_URL" "$AZURITE_PATH/bench/big$run" "$AZURITE_SAS")")
    echo "   run $run: upload azlite ${ZL_UPS[-1]} Azurite ${AR_UPS[-1]}; download azlite ${ZL_DOWNS[-1]} Azurite ${AR_DOWNS[-1]}"
done
stop_azurite
printf '  upload    azlite %6s MB/s  Azurite %6s MB/s\n' "$(median "${ZL_UPS[@]}")" "$(median "${AR_UPS[@]}")"
printf '  download  azlite %6s MB/s  Azurite %6s MB/s\n' "$(median "${ZL_DOWNS[@]}")" "$(median "${AR_DOWNS[@]}")"
rm -f "$DIR/256m"

echo "== 4. azlite's RSS during a $HUGE_MIB MiB upload"
head -c $((HUGE_MIB * 1024 * 1024)) /dev/zero >"$DIR/1g"
rss() { awk '/VmRSS/ { print $2 }' "/proc/$AZLITE_PID/status"; }
BEFORE=$(rss)
put_one "$AZLITE_URL" "$AZLITE_PATH/bench/huge" "$AZLITE_SAS" "$DIR/1g" >"$DIR/huge.speed" &
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
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
