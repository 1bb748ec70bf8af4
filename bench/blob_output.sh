#!/usr/bin/env bash
# Outputs in blob storage against a local output folder: the whole etl job
# on the generated sessions of SIZE writing its output locally and to the
# blob emulator on loopback (Azurite, in memory: the tables written to a
# scratch folder, then published as a generation and its manifest), and the
# whole train job reading the feature table from each. Prints the median
# wall time of RUNS runs each, the bytes published and the ratio to local.
#   bench/blob_output.sh [SIZE=1G] [RUNS=3] [THREADS=2]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
size=${1:-1G}
runs=${2:-3}
threads=${3:-2}
source "$root/bench/lib.sh"
loadcast=$(built_loadcast "$root" tests)
data=$(generated_sessions "$loadcast" "$size")
work=$(mktemp -d)
start_azurite "$root" "$work"
trap 'kill $azurite 2>/dev/null; rm -rf "$work"' EXIT
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=$endpoint"
glob="20[0,1][0-9]/[0,1][0-9]/[a,b]/[0-6]/request.csv"
cat "$data"/20*/*/*/*/request.csv > /dev/null  # warm the page cache

timed() {  # FILE COMMAND...: appends the command's wall seconds to FILE
  local t0 t1
  t0=$(date +%s.%N)
  "${@:2}" > "$work/last.txt"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}' >> "$1"
}
for where in local blob; do
  out="$work/out"
  [ "$where" = blob ] && out="$endpoint/bench/fleet"
  cat > "$work/$where.json" <<JSON
{"dataFile": "$data/$glob", "duration": "ONE_MONTH", "layout": "sessions17", "output": "$out"}
JSON
  for _ in $(seq "$runs"); do
    timed "$work/etl-$where.txt" "$loadcast" etl "$work/$where.json" --threads "$threads" --workspace "$work/ws"
    [ "$where" = blob ] && grep -o 'published.*' "$work/last.txt" > "$work/published.txt"
    timed "$work/train-$where.txt" "$loadcast" train "$work/$where.json" --threads "$threads" --workspace "$work/ws"
  done
done
tables=$(du -sb "$work/out/features" "$work/out/hourly" "$work/out/daily" | awk '{s+=$1} END {printf "%.1f MB", s/1e6}')
echo "blob output benchmark: $size of generated sessions ($tables of tables), $threads threads, median of $runs runs"
echo "etl to blob storage: $(cat "$work/published.txt")"
for job in etl train; do
  l=$(median "$work/$job-local.txt")
  b=$(median "$work/$job-blob.txt")
  printf '%-6s local %6.2f s   blob %6.2f s   %.2fx local time\n' "$job" "$l" "$b" \
    "$(awk -v l="$l" -v b="$b" 'BEGIN {print b/l}')"
done
