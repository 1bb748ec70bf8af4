#!/usr/bin/env bash
# `loadcast tune` on the feature table of SIZE of generated sessions (ETL run
# once): a 2 x 2 grid of random forests (maxDepth 6/8, maxBins 16/32, 50
# trees) on 3 folds of 2 days, run in one process with a thread per core and
# on np = 1, 2, 4 MPI ranks of one thread each (ranks beyond the cores share
# them: nproc is printed). Prints the search's wall time, trials per minute
# and the speed-up over one rank of one thread, and checks that every run
# chose the same trial and wrote the same bundle. Then measures the other
# way to use the cores: two single-thread fits at once against the same two
# fits one after the other on all cores.
#   bench/tune.sh [SIZE=1G] [NPS="1 2 4"]
# Environment: LOADCAST (default: build/loadcast, built here).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
size=${1:-1G}
nps=${2:-"1 2 4"}
if [ -z "${LOADCAST:-}" ]; then
  cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$root/build" --target loadcast >/dev/null
fi
loadcast=${LOADCAST:-$root/build/loadcast}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
source "$root/bench/lib.sh"
data=$(generated_sessions "$loadcast" "$size")
work="$root/bench/data/tune-$size"
mkdir -p "$work"
cat > "$work/config.json" <<JSON
{"storageAccount": "bench", "storageKey": "", "storageContainer": "bench",
 "dataFile": "$data/20[0,1][0-9]/[0,1][0-9]/[a,b]/[0-6]/request.csv", "duration": "ONE_MONTH",
 "layout": "sessions17", "output": "$work/out", "forest": {"numTrees": 50},
 "tuning": {"folds": 3, "foldDays": 2, "space": {"forest.maxDepth": [6, 8], "forest.maxBins": [16, 32]}}}
JSON
if [ ! -f "$work/out/.etl-complete" ]; then
  "$loadcast" etl "$work/config.json" --workspace "$work/ws" > "$work/etl.txt"
  touch "$work/out/.etl-complete"
fi
cores=$(nproc)
echo "tune: $(sed -n 's/.*"rows": *\([0-9]*\).*/\1/p' "$work/out/etl_summary.json" | head -1) feature rows," \
     "4 trials x 3 folds; $cores cores"

base=""
chosen=""
for np in 0 $nps; do
  launch=(mpirun --oversubscribe --bind-to none -np "$np")
  threads=1
  [[ $np -eq 0 ]] && launch=() && threads=$cores
  log=$("${launch[@]}" "$loadcast" tune "$work/config.json" --threads "$threads" --workspace "$work/ws")
  search=$(sed -n 's/.* folds in \([0-9.]*\) s, .*/\1/p' <<<"$log")
  best=$(sed -n 's/^\(best: trial [0-9]* ([^)]*)\).*/\1/p' <<<"$log")
  bundle=$(cd "$work/out/model" && cat forest.json encoder.json | sha256sum | cut -c1-12)
  [[ $np -eq 1 ]] && base=$search
  if [[ -z "$chosen" ]]; then chosen="$best $bundle"; fi
  same=$([[ "$best $bundle" == "$chosen" ]] && echo same || echo DIFFERENT)
  name=$([[ $np -eq 0 ]] && echo "no mpirun x $threads threads" || echo "np $np x 1 thread")
  awk -v n="$name" -v s="$search" -v b="$base" -v c="$same" -v w="$best" 'BEGIN {
        sp = (b == "" ? "" : sprintf(", speed-up %.2fx over np 1", b / s));
        printf "%-26s search %6.1f s, %5.1f trials/min%s; %s, bundle %s\n", n, s, 240 / s, sp, w, c }'
done

# Trials in parallel instead: two one-thread fits of one trial at once, or
# the same two fits one after the other on every core.
/usr/bin/python3 - "$work/config.json" "$work/one.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
del c["tuning"]
c["forest"]["maxDepth"] = 8
json.dump(c, open(sys.argv[2], "w"))
PY
# Each fit its own output folder (a copy of the feature table): two fits of
# one folder would wait for each other's bundle.
for copy in a b; do
  if [ ! -d "$work/out-$copy/features" ]; then
    mkdir -p "$work/out-$copy"
    cp -r "$work/out/features" "$work/out/etl_summary.json" "$work/out-$copy/"
  fi
done
one_fit() { "$loadcast" train "$work/one.json" --threads "$1" --output "$work/out-$2" --workspace "$work/ws" >/dev/null; }
start=$(date +%s.%N); one_fit "$cores" a; one_fit "$cores" b; end=$(date +%s.%N)
sequential=$(echo "$end - $start" | bc)
start=$(date +%s.%N); one_fit 1 a & one_fit 1 b & wait; end=$(date +%s.%N)
concurrent=$(echo "$end - $start" | bc)
awk -v s="$sequential" -v c="$concurrent" -v t="$cores" 'BEGIN {
  printf "two fits: one after the other on %d threads %.2f s, both at once on one thread each %.2f s (%.2fx)\n", t, s, c, s / c }'
