#!/usr/bin/env bash
# The tables as CSV and as Parquet: the whole etl job on the same generated
# sessions with --format csv and --format parquet (medians of RUNS), its
# features stage (building the features and writing and syncing the three
# tables) per input GB, and the bytes of each output; and, as the peer,
# DuckDB writing the same feature table as zstd Parquet from memory (the
# write alone, median of 3) and the bytes it takes.
#   bench/etl_format.sh [SIZE=1G] [RUNS=3] [THREADS=2]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
size=${1:-1G}
runs=${2:-3}
threads=${3:-2}
source "$root/bench/lib.sh"
loadcast=$(built_loadcast "$root")
data=$(generated_sessions "$loadcast" "$size")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/config.json" <<JSON
{"storageAccount": "bench", "storageKey": "", "storageContainer": "bench",
 "dataFile": "$data/20[0,1][0-9]/[0,1][0-9]/[a,b]/[0-6]/request.csv", "duration": "ONE_MONTH",
 "layout": "sessions17"}
JSON
cat "$data"/20*/*/*/*/request.csv > /dev/null  # warm the page cache

for format in csv parquet; do
  for i in $(seq "$runs"); do
    "$loadcast" etl "$work/config.json" --format "$format" --threads "$threads" \
      --output "$work/$format" > /dev/null
    cp "$work/$format/etl_summary.json" "$work/$format-$i.json"
  done
done
node "$root/bench/duckdb_parquet_write.mjs" "$work/csv/features/*/*/*.csv" \
  "$work/duckdb-features.parquet" 3 "$threads" > "$work/duckdb.json"

python3 - "$work" "$runs" <<'PY'
import json, os, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
def tree_bytes(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
result = {}
for fmt in ("csv", "parquet"):
    s = [json.load(open(f"{work}/{fmt}-{i}.json")) for i in range(1, runs + 1)]
    gb = s[0]["bytes"] / 1e9
    result[fmt] = {
        "total": statistics.median(x["seconds"]["total"] for x in s),
        "features": statistics.median(x["seconds"]["features"] for x in s),
        "gb": gb, "rows": s[0]["rows"],
        "bytes": {t: tree_bytes(f"{work}/{fmt}/{t}") for t in ("features", "hourly", "daily")},
    }
duck = json.load(open(f"{work}/duckdb.json"))
c, p = result["csv"], result["parquet"]
print(f"input {c['gb']:.2f} GB, {c['rows']} feature rows, medians of {runs}")
print(f"{'format':8} {'etl s':>7} {'features s':>11} {'features s/GB':>14} "
      f"{'features MB':>12} {'hourly MB':>10} {'daily MB':>9}")
for fmt, r in result.items():
    b = r["bytes"]
    print(f"{fmt:8} {r['total']:7.2f} {r['features']:11.2f} {r['features'] / r['gb']:14.2f} "
          f"{b['features'] / 1e6:12.1f} {b['hourly'] / 1e6:10.1f} {b['daily'] / 1e6:9.1f}")
print(f"parquet/csv: features stage {p['features'] / c['features']:.2f}x the time, "
      f"output {sum(p['bytes'].values()) / sum(c['bytes'].values()):.3f}x the bytes")
print(f"peer: DuckDB writes the same feature table ({duck['rows']} rows) from memory as zstd "
      f"Parquet in {duck['seconds']:.2f} s (the write alone), {duck['bytes'] / 1e6:.1f} MB; "
      f"loadcast's feature table is {p['bytes']['features'] / duck['bytes']:.2f}x its bytes")
PY
