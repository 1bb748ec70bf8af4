#!/usr/bin/env bash
# Strong scaling of `loadcast etl` on MPI ranks: the same generated input
# (>= 2 GB) on np 1, 2 and 4, one thread per rank (np 1 with 2 threads as the
# threads-only reference on the same cores). Prints wall time, phases,
# speedup, parallel efficiency (against np, and against the cores actually
# available), and the bytes shuffled between ranks per input GB (from
# etl_summary.json), and the CPU seconds of all ranks. Input is read from
# the page cache (warmed first); each configuration runs REPEAT times and the
# fastest run is shown (the machine may be shared).
#   bench/mpi_scaling.sh [SIZE=2G] [NPS="1 2 4"]
# Environment: LOADCAST (default build/loadcast), REPEAT (default 1),
# KEEP_OUTPUT=1 keeps the outputs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
size=${1:-2G}
nps=${2:-"1 2 4"}
loadcast=${LOADCAST:-$here/../build/loadcast}
python=/usr/bin/python3
cores=$(nproc)
data=$here/data/sessions-$size
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

if [[ ! -f $data/.complete ]]; then
  echo "generating $size into $data ..." >&2
  rm -rf "$data"
  "$loadcast" generate --out "$data" --size "$size" --seed 7 --threads "$cores" >&2
  touch "$data/.complete"
fi
work=$(mktemp -d)
[[ ${KEEP_OUTPUT:-0} == 1 ]] || trap 'rm -rf "$work"' EXIT
cat > "$work/config.json" << JSON
{"storageAccount": "bench", "storageKey": "", "storageContainer": "bench",
 "dataFile": "$data/20[0,1][0-9]/[0,1][0-9]/[a,b]/[0-6]/request.csv", "duration": "ONE_MONTH",
 "layout": "sessions17"}
JSON
bytes=$(du -cb "$data"/*/*/*/*/request.csv | tail -1 | cut -f1)
cat "$data"/*/*/*/*/request.csv > /dev/null  # warm the page cache

# run NAME NP THREADS: the fastest of REPEAT etl runs: wall and CPU seconds
# (all ranks: they are mpirun's children) and summary fields, on one line.
run() {
  local name=$1 np=$2 threads=$3 out=$work/$1 best=""
  local launch=()
  [[ $np -gt 0 ]] && launch=(mpirun --oversubscribe --bind-to none -np "$np")
  for ((i = 0; i < ${REPEAT:-1}; i++)); do
    /usr/bin/time -f '%e %U %S' -o "$work/$name.time" "${launch[@]}" "$loadcast" etl "$work/config.json" \
      --threads "$threads" --output "$out" --workspace "$work/ws" > "$work/$name.log" 2>&1 ||
      { cat "$work/$name.log" >&2; exit 1; }
    line=$("$python" - "$out/etl_summary.json" "$work/$name.time" << 'PY'
import json, sys
s = json.load(open(sys.argv[1]))
wall, user, system = map(float, open(sys.argv[2]).read().split()[-3:])
sh = s.get("shuffle", {})
print(wall, user + system, s["seconds"]["ingest"], s["seconds"]["features"], sh.get("seconds", 0),
      sh.get("bytes", 0), sh.get("bytesPerInputGB", 0), s["lines"], s["rows"])
PY
)
    if [[ -z $best ]] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then best=$line; fi
  done
  echo "$best"
  [[ ${KEEP_OUTPUT:-0} == 1 ]] || rm -rf "$out"
}

printf 'input: %s (%s GB), %d cores, %s\n' "$data" "$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1e9 }')" "$cores" \
  "$("$loadcast" --version)"
printf '%-22s %7s %7s %8s %7s %8s %7s %6s %8s %10s %11s\n' run wall_s cpu_s ingest_s feat_s shufl_s speedup \
  eff eff/core shuffle_MB "B/input_GB"
base=""
for np in $nps; do
  read -r wall cpu ingest features shuffle_s shuffled per_gb lines rows < <(run "np$np" "$np" 1)
  [[ -z $base ]] && base=$wall
  used=$((np < cores ? np : cores))
  awk -v n="np $np x 1 thread" -v w="$wall" -v c="$cpu" -v i="$ingest" -v f="$features" -v s="$shuffle_s" \
    -v b="$base" -v np="$np" -v used="$used" -v mb="$shuffled" -v g="$per_gb" 'BEGIN {
      printf "%-22s %7.2f %7.2f %8.2f %7.2f %8.2f %7.2f %6.2f %8.2f %10.1f %11.0f\n",
             n, w, c, i, f, s, b / w, b / (np * w), b / (used * w), mb / 1e6, g }'
done
read -r wall cpu ingest features shuffle_s shuffled per_gb lines rows < <(run threads "0" "$cores")
awk -v n="no mpirun x $cores threads" -v w="$wall" -v c="$cpu" -v i="$ingest" -v f="$features" -v b="$base" \
  -v cores="$cores" 'BEGIN {
  printf "%-22s %7.2f %7.2f %8.2f %7.2f %8s %7.2f %6s %8.2f %10s %11s\n",
         n, w, c, i, f, "-", b / w, "-", b / (cores * w), "-", "-" }'
echo "lines $lines, feature rows $rows; speedup and efficiency against np 1 (eff: np x wall; eff/core: cores used)"
