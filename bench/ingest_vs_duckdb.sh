#!/usr/bin/env bash
# Ingest throughput on one core: loadcast's parse + validate + five-minute
# aggregation, and its whole etl job (ingest, features, writing and syncing
# the three tables), against DuckDB's read_csv + GROUP BY on the same
# generated files, in the same run. Prints medians and the ratios. With one thread both
# sides are pinned to one CPU (taskset), so helper threads cannot borrow a
# second core (PIN=0 leaves them unpinned).
#   [PIN=0] bench/ingest_vs_duckdb.sh [SIZE=1G] [RUNS=5] [THREADS=1]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
size=${1:-1G}
runs=${2:-5}
threads=${3:-1}
source "$root/bench/lib.sh"
loadcast=$(built_loadcast "$root")
data=$(generated_sessions "$loadcast" "$size")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$data/bench-config.json" <<JSON
{"storageAccount": "bench", "storageKey": "", "storageContainer": "bench",
 "dataFile": "20[0,1][0-9]/[0,1][0-9]/[a,b]/[0-6]/request.csv", "duration": "ONE_MONTH",
 "layout": "sessions17", "output": "$work/out"}
JSON
bytes=$(find "$data" -name request.csv -printf '%s\n' | awk '{s+=$1} END {print s}')
cat "$data"/20*/*/*/*/request.csv > /dev/null  # warm the page cache for both

pin=()
if [ "$threads" = 1 ] && [ "${PIN:-1}" != 0 ] && command -v taskset >/dev/null; then pin=(taskset -c 0); fi
echo "ingest benchmark: $(awk -v b="$bytes" 'BEGIN {printf "%.2f GB", b/1e9}') of generated sessions, $threads thread(s)${pin:+, pinned to CPU 0}, $runs runs each"
for i in $(seq "$runs"); do
  "${pin[@]}" "$loadcast" etl "$data/bench-config.json" --threads "$threads" >/dev/null
  /usr/bin/python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['seconds']; print(s['ingest'], s['total'])" "$work/out/etl_summary.json" >> "$work/loadcast.txt"
  (cd "$root/bench" && "${pin[@]}" node duckdb_ingest.mjs "$data/20*/*/*/*/request.csv" "$threads") |
    /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['seconds'])" >> "$work/duckdb.txt"
done
/usr/bin/python3 - "$bytes" "$work/loadcast.txt" "$work/duckdb.txt" <<'PY'
import statistics, sys
nbytes = int(sys.argv[1])
runs = [line.split() for line in open(sys.argv[2])]
ours = [float(r[0]) for r in runs]
whole = [float(r[1]) for r in runs]
duck = [float(x) for x in open(sys.argv[3])]
mo, mw, md = statistics.median(ours), statistics.median(whole), statistics.median(duck)
print(f"loadcast ingest: median {mo:.3f} s  {nbytes / 1e6 / mo:8.1f} MB/s, best {nbytes / 1e6 / min(ours):.1f} MB/s   (runs: {', '.join(f'{x:.3f}' for x in ours)})")
print(f"loadcast whole etl job: median {mw:.3f} s  {nbytes / 1e6 / mw:8.1f} MB/s   (runs: {', '.join(f'{x:.3f}' for x in whole)})")
print(f"duckdb read_csv+group by: median {md:.3f} s  {nbytes / 1e6 / md:8.1f} MB/s   (runs: {', '.join(f'{x:.3f}' for x in duck)})")
print(f"ratio: loadcast's ingest is {md / mo:.2f}x DuckDB, its whole job {md / mw:.2f}x")
PY
