#!/usr/bin/env bash
# Throughput and latency of `loadcast serve --threads 2` under wrk: keep-alive
# connections on loopback posting the 48 hourly records of one server to
# /score. Runs wrk several times after a warm-up and prints each run's
# requests/s, p50 and p99, then their medians. wrk and the server share the
# machine (on a 2-core box: one wrk thread, two server threads).
#
# usage: bench/serve_wrk.sh [OUTPUT_DIR] [--connections N] [--duration S]
#                           [--wrk-threads N] [--runs N] [--server-threads N]
#                           [--access-log] [--replicas N]
#   OUTPUT_DIR: an ETL+train output folder (model/, features/); default: the
#   golden case, run through etl and train into a temporary folder.
#   --connections defaults to the server threads (one keep-alive connection
#   per worker); each worker is an event loop, so more connections work too.
#   --access-log keeps the access log on (to /dev/null); default off.
#   --replicas N measures N replicas behind nginx (scripts/replicas.sh, each
#   with --server-threads threads) instead of one server directly.
#   LOADCAST=path/to/loadcast picks the binary (default build/loadcast).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${LOADCAST:-$here/build/loadcast}
output="" connections="" duration=10 wrk_threads=1 runs=5 server_threads=2 access_log=0 replicas=0
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) connections=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --wrk-threads) wrk_threads=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --server-threads) server_threads=$2; shift 2 ;;
    --access-log) access_log=1; shift ;;
    --replicas) replicas=$2; shift 2 ;;
    -h|--help) sed -n 2,18p "$0"; exit 0 ;;
    *) output=$1; shift ;;
  esac
done
connections=${connections:-$server_threads}
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

log_flag=--no-access-log
[ "$access_log" = 1 ] && log_flag=""
if [ "$replicas" -gt 0 ]; then
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  bash "$here/scripts/replicas.sh" --replicas "$replicas" --port "$port" --dir "$work/replicas" \
    --loadcast "$bin" -- --model "$output/model" --threads "$server_threads" --no-auth $log_flag \
    > "$work/serve.out" 2> /dev/null &
  server_pid=$!
  for _ in $(seq 300); do grep -q '^replicas: ready' "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
  grep -q '^replicas: ready' "$work/serve.out" || { echo "serve_wrk.sh: the replicas did not start" >&2; exit 1; }
  what="$replicas replicas (loadcast serve --threads $server_threads each) behind nginx"
else
  "$bin" serve --model "$output/model" --port 0 --threads "$server_threads" --no-auth $log_flag \
    > "$work/serve.out" 2> /dev/null &
  server_pid=$!
  for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.05; done
  port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$work/serve.out")
  what="loadcast serve --threads $server_threads"
fi
[ -n "$port" ] || { echo "serve_wrk.sh: the server did not start" >&2; exit 1; }
status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$work/body.json" "http://127.0.0.1:$port/score")
[ "$status" = 200 ] || { echo "serve_wrk.sh: /score answered $status" >&2; exit 1; }

echo "$what$([ "$access_log" = 1 ] && echo " (access log on)") on 127.0.0.1:$port;" \
     "wrk -t$wrk_threads -c$connections -d${duration}s --latency, keep-alive, POST /score with 48 records" \
     "($(wc -c < "$work/body.json") bytes); $(nproc) cores shared by wrk and the server"
wrk -t"$wrk_threads" -c"$connections" -d2s -s "$work/score.lua" "http://127.0.0.1:$port" > /dev/null  # warm-up

# wrk prints latencies as 123.45us, 1.23ms or 1.02s; the summary is in ms.
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.3f", v}'; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
printf "%-5s %12s %10s %10s %8s\n" run "requests/s" "p50 ms" "p99 ms" "non-2xx"
: > "$work/runs"
for run in $(seq "$runs"); do
  wrk -t"$wrk_threads" -c"$connections" -d"${duration}s" --latency -s "$work/score.lua" "http://127.0.0.1:$port" > "$work/wrk.txt"
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt" | to_ms)
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt" | to_ms)
  bad=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt")
  printf "%-5s %12.0f %10s %10s %8s\n" "$run" "$rps" "$p50" "$p99" "${bad:-0}"
  echo "$rps $p50 $p99" >> "$work/runs"
done
printf "%-5s %12.0f %10s %10s\n" median "$(cut -d' ' -f1 "$work/runs" | median)" \
  "$(cut -d' ' -f2 "$work/runs" | median)" "$(cut -d' ' -f3 "$work/runs" | median)"
kill -TERM "$server_pid"; wait "$server_pid"; server_pid=""
