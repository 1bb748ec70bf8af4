#!/usr/bin/env bash
# The ETL within a fixed memory limit on FULL-window streams: for each
# SERVERS:SIZE, `loadcast generate --stdout --start 2009-01-01 --end
# 2016-06-30 --servers S --size Z | loadcast etl` (dataFile "-") under
# --memory-limit LIMIT, with peak RSS, wall time, GB/s, spill bytes per input
# GB and the line accounting (lines = the sum of the fates).
# FORMAT=parquet writes the tables as Parquet (a fraction of the CSV's bytes,
# for fleets whose CSV tables would not fit the disk).
#   [FORMAT=csv] bench/etl_spill.sh [CASES="100:4G 500:20G"] [LIMIT=2G] [THREADS=2] [OUT=tmp]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cases=${1:-"100:4G 500:20G"}
limit=${2:-2G}
threads=${3:-2}
format=${FORMAT:-csv}
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" --target loadcast >/dev/null
loadcast="$root/build/loadcast"
work=${4:-$(mktemp -d)}
mkdir -p "$work"
cat > "$work/config.json" <<JSON
{"storageAccount": "bench", "storageKey": "", "storageContainer": "bench", "dataFile": "-",
 "duration": "FULL", "layout": "sessions17", "format": "$format", "output": "$work/out"}
JSON
printf '%-9s %8s %11s %9s %7s %10s %12s %s\n' servers size "peak MiB" seconds "GB/s" "spill/GB" "late" accounting
for c in $cases; do
  servers=${c%%:*}
  size=${c##*:}
  /usr/bin/time -f '%M %e' -o "$work/time.txt" "$loadcast" etl "$work/config.json" \
    --memory-limit "$limit" --threads "$threads" --workspace "$work/ws" \
    < <("$loadcast" generate --stdout --start 2009-01-01 --end 2016-06-30 --servers "$servers" \
          --size "$size" --seed 3 2>/dev/null) > "$work/etl.txt"
  read -r rss seconds < "$work/time.txt"
  /usr/bin/python3 - "$work/out/etl_summary.json" "$servers" "$size" "$rss" "$seconds" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
rss_mib, seconds = int(sys.argv[4]) / 1024, float(sys.argv[5])
fates = s["accepted"] + s["outside_window"] + s["filtered_ip"] + s["blank"] + sum(s["rejected"].values())
ok = "balanced" if fates == s["lines"] else f"UNBALANCED {fates} != {s['lines']}"
print(f"{sys.argv[2]:<9} {sys.argv[3]:>8} {rss_mib:11.0f} {seconds:9.1f} {s['bytes'] / 1e9 / seconds:7.2f} "
      f"{s['spill']['bytesPerInputGB'] / 1e6:8.0f} MB {s['spill']['lateEntries']:12d} "
      f"lines {s['lines']}, accepted {s['accepted']}: {ok}")
PY
done
