#!/usr/bin/env bash
# Peak memory of a streamed etl: `loadcast generate --stdout | loadcast etl`
# with dataFile "-", for growing input sizes over the same fleet and window.
# Memory is bounded by servers x five-minute buckets, not by input bytes.
#   bench/etl_memory.sh [SIZES="1G 3G"] [SERVERS=200]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sizes=${1:-"1G 3G"}
servers=${2:-200}
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" --target loadcast >/dev/null
loadcast="$root/build/loadcast"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/config.json" <<JSON
{"storageAccount": "bench", "storageKey": "", "storageContainer": "bench", "dataFile": "-",
 "duration": "ONE_MONTH", "layout": "sessions17", "output": "$work/out"}
JSON
printf '%-6s %12s %12s %10s %14s\n' size lines accepted seconds "peak RSS MB"
for size in $sizes; do
  /usr/bin/time -f '%M %e' -o "$work/etl-time.txt" "$loadcast" etl "$work/config.json" \
    < <("$loadcast" generate --stdout --size "$size" --servers "$servers" --seed 3 2>/dev/null) > "$work/etl.txt"
  read -r rss seconds < "$work/etl-time.txt"
  lines=$(/usr/bin/python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(s['lines'], s['accepted'])" "$work/out/etl_summary.json")
  printf '%-6s %12s %12s %10s %14s\n' "$size" ${lines} "$seconds" "$((rss / 1024))"
done
