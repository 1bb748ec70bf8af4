#!/usr/bin/env bash
# Throughput and latency of `loadcast serve --threads 2 --no-auth` under wrk:
# keep-alive connections on loopback posting the 48 hourly records of one
# server to /score. Prints wrk's requests/s and latency percentiles.
#
# usage: bench/serve_wrk.sh [OUTPUT_DIR] [--connections N] [--duration S] [--wrk-threads N]
#   OUTPUT_DIR: an ETL+train output folder (model/, features/); default: the
#   golden case, run through etl and train into a temporary folder.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${LOADCAST:-$here/build/loadcast}
output="" connections=2 duration=10 wrk_threads=1
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) connections=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --wrk-threads) wrk_threads=$2; shift 2 ;;
    -h|--help) sed -n 2,8p "$0"; exit 0 ;;
    *) output=$1; shift ;;
  esac
done
command -v wrk >/dev/null || { echo "serve_wrk.sh: wrk not found (scripts/setup.sh --bench)" >&2; exit 2; }
[ -x "$bin" ] || { echo "serve_wrk.sh: $bin not built (set LOADCAST=...)" >&2; exit 2; }

work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

if [ -z "$output" ]; then
  output=$work/out
  "$bin" etl "$here/tests/golden/case/config.json" --output "$output" >/dev/null
  "$bin" train "$here/tests/golden/case/config.json" --output "$output" >/dev/null
fi

# The request: the first 48 feature rows of the first server, as /score records.
/usr/bin/python3 - "$output" "$work/body.json" <<'PY'
import csv, glob, json, sys
out, dest = sys.argv[1], sys.argv[2]
rows = []
for f in sorted(glob.glob(out + "/features/*/*/part-*.csv")):
    with open(f) as fh:
        rows += list(csv.DictReader(fh))
    if len(rows) >= 48: break
ints = {"year", "month", "weekofyear", "dayofmonth", "hourofday", "Holiday", "BusinessHour", "Morning"}
records = []
for r in rows[:48]:
    rec = {}
    for k, v in r.items():
        if k in ("label", "numSessions") or (k.startswith("peak") and "Lag" not in k): continue
        rec[k] = int(v) if k in ints else (float(v) if k not in ("key", "ServerIP", "SessionStartHourTime", "dayofweek") else v)
    records.append(rec)
json.dump(records, open(dest, "w"))
PY
cat > "$work/score.lua" <<LUA
wrk.method = "POST"
wrk.path = "/score"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/body.json", "rb")
wrk.body = f:read("*a")
f:close()
LUA

"$bin" serve --model "$output/model" --port 0 --threads 2 --no-auth --no-access-log > "$work/serve.out" 2> "$work/serve.err" &
server_pid=$!
for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$work/serve.out")
[ -n "$port" ] || { cat "$work/serve.err" >&2; exit 1; }
status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$work/body.json" "http://127.0.0.1:$port/score")
[ "$status" = 200 ] || { echo "serve_wrk.sh: /score answered $status" >&2; exit 1; }

echo "loadcast serve --threads 2 on 127.0.0.1:$port; wrk -t$wrk_threads -c$connections -d${duration}s, 48 records per request ($(wc -c < "$work/body.json") bytes)"
wrk -t"$wrk_threads" -c"$connections" -d"${duration}s" --latency -s "$work/score.lua" "http://127.0.0.1:$port" |
  grep -E "Requests/sec|Transfer/sec|50%|75%|90%|99%|requests in|Non-2xx|Socket errors"
kill -TERM "$server_pid"; wait "$server_pid"; server_pid=""
