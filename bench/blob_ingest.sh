#!/usr/bin/env bash
# Ingest from the blob emulator on loopback against the same files read
# locally: the generated sessions of bench/ingest_vs_duckdb.sh uploaded to
# Azurite (in memory), then the whole etl job on the local files and on the
# blobs with 1, 2, 4 and 8 ranged reads in flight per thread, chunks of
# CHUNK_MB (default 8). Prints the median of RUNS runs each, MB/s, the ratio
# to local and the emulator's own CPU seconds (it shares the machine's cores).
#   [CHUNK_MB=8] bench/blob_ingest.sh [SIZE=1G] [RUNS=3] [THREADS=2]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
size=${1:-1G}
runs=${2:-3}
threads=${3:-2}
chunk_mb=${CHUNK_MB:-8}
bash "$root/scripts/setup.sh"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" --target loadcast blob_upload >/dev/null
loadcast="$root/build/loadcast"
source "$root/bench/lib.sh"
data=$(generated_sessions "$loadcast" "$size")
work=$(mktemp -d)
start_azurite "$root" "$work"
trap 'kill $azurite 2>/dev/null; rm -rf "$work"' EXIT
"$root/build/bench/blob_upload" "$endpoint" bench "$data" sessions/ >/dev/null
glob="20[0,1][0-9]/[0,1][0-9]/[a,b]/[0-6]/request.csv"
bytes=$(find "$data" -name request.csv -printf '%s\n' | awk '{s+=$1} END {print s}')
cat "$data"/20*/*/*/*/request.csv > /dev/null  # warm the page cache for the local runs

run() {  # NAME DATAFILE EXTRA_FIELDS
  cat > "$work/$1.json" <<JSON
{"dataFile": "$2", "duration": "ONE_MONTH", "layout": "sessions17", "output": "$work/out" $3}
JSON
  cpu0=$(awk '{print $14 + $15}' /proc/$azurite/stat)
  for _ in $(seq "$runs"); do
    "$loadcast" etl "$work/$1.json" --threads "$threads" --chunk-mb "$chunk_mb" >/dev/null
    /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['seconds']['total'])" \
      "$work/out/etl_summary.json" >> "$work/$1.txt"
  done
  cpu1=$(awk '{print $14 + $15}' /proc/$azurite/stat)
  median "$work/$1.txt"
  echo "$(( (cpu1 - cpu0) / runs ))" > "$work/cpu.txt"  # clock ticks per run
}
echo "blob ingest benchmark: $(awk -v b="$bytes" 'BEGIN {printf "%.2f GB", b/1e9}') of generated sessions, $threads thread(s), $chunk_mb MiB chunks, median of $runs runs"
local_s=$(run local "$data/$glob" "")
printf '%-22s %7.2f s %8.1f MB/s\n' "local files" "$local_s" "$(awk -v b="$bytes" -v s="$local_s" 'BEGIN {print b/1e6/s}')"
ticks=$(getconf CLK_TCK)
for n in 1 2 4 8; do
  s=$(run "blob$n" "wasb://bench@devstoreaccount1.blob.core.windows.net/sessions/$glob" \
    ", \"storageAccount\": \"devstoreaccount1\", \"storageKey\": \"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==\", \"blobEndpoint\": \"$endpoint\", \"blobReadsInFlight\": $n")
  printf '%-22s %7.2f s %8.1f MB/s   %.2fx local   emulator CPU %.2f s\n' "blob, $n in flight" "$s" \
    "$(awk -v b="$bytes" -v s="$s" 'BEGIN {print b/1e6/s}')" "$(awk -v a="$local_s" -v s="$s" 'BEGIN {print a/s}')" \
    "$(awk -v t="$(cat "$work/cpu.txt")" -v h="$ticks" 'BEGIN {print t/h}')"
done
