#!/usr/bin/env bash
# Strong scaling of `loadcast train` on MPI ranks: the same feature table
# (from SIZE of generated sessions, ETL run once) trained with np = 1, 2, 4
# ranks of one thread each under mpirun --oversubscribe, then one process
# with a thread per core as the threads-only reference. Prints wall, CPU and
# forest times, speedup and parallel efficiency (against np, and against the
# cores actually available), the bytes each rank allreduces per tree, and
# checks that every run wrote the same forest.
#   bench/mpi_train_scaling.sh [SIZE=2G] [NPS="1 2 4"] [RUNS=1]
# Environment: LOADCAST (default: build/loadcast, built here). On a machine
# with fewer cores than ranks the extra ranks share cores: say so with the
# figures (nproc is printed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
size=${1:-2G}
nps=${2:-"1 2 4"}
runs=${3:-1}
if [ -z "${LOADCAST:-}" ]; then
  cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$root/build" --target loadcast >/dev/null
fi
loadcast=${LOADCAST:-$root/build/loadcast}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# The sessions (shared with the ingest benchmark: same seed) and their
# feature table, both kept under bench/data/ (git-ignored) between runs.
source "$root/bench/lib.sh"
data=$(generated_sessions "$loadcast" "$size")
work="$root/bench/data/train-$size"
mkdir -p "$work"
cat > "$work/config.json" <<JSON
{"storageAccount": "bench", "storageKey": "", "storageContainer": "bench",
 "dataFile": "$data/20[0,1][0-9]/[0,1][0-9]/[a,b]/[0-6]/request.csv", "duration": "ONE_MONTH",
 "layout": "sessions17", "output": "$work/out"}
JSON
if [ ! -f "$work/out/.etl-complete" ]; then
  "$loadcast" etl "$work/config.json" --workspace "$work/ws" > "$work/etl.txt"
  touch "$work/out/.etl-complete"
fi
input_bytes=$(find "$data" -name request.csv -printf '%s\n' | awk '{s+=$1} END {print s}')
table_bytes=$(du -sb "$work/out/features" | cut -f1)
rows=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['rows'])" "$work/out/etl_summary.json")
echo "train scaling: $(awk -v b="$input_bytes" 'BEGIN {printf "%.2f GB", b/1e9}') of sessions -> $rows feature rows" \
     "($(awk -v b="$table_bytes" 'BEGIN {printf "%.0f MB", b/1e6}') of CSV); $(nproc) cores; 1 thread per rank;" \
     "median of $runs run(s)"

results="$work/scaling.txt"
: > "$results"
cores=$(nproc)
# np 0: no mpirun, a thread per core.
for np in $nps 0; do
  launch=(mpirun --oversubscribe --bind-to none -np "$np")
  threads=1
  [[ $np -eq 0 ]] && launch=() && threads=$cores
  for run in $(seq "$runs"); do
    log=$(/usr/bin/time -f '%e %U %S' -o "$work/time.txt" \
          "${launch[@]}" "$loadcast" train "$work/config.json" --threads "$threads" --workspace "$work/ws")
    read -r wall user sys < "$work/time.txt"
    forest=$(sed -n 's/.*forest \([0-9.]*\) s, total.*/\1/p' <<<"$log")
    total=$(sed -n 's/.*, total \([0-9.]*\) s,.*/\1/p' <<<"$log")
    per_tree=$(sed -n 's/.*allreduce \([0-9.]*\) MB per tree.*/\1/p' <<<"$log")
    waiting=$(sed -n 's/.* calls, \([0-9.]*\) s waiting.*/\1/p' <<<"$log")
    accuracy=$(sed -n 's/^Test Accuracy = //p' <<<"$log")
    forest_sha=$(sha256sum "$work/out/model/forest.json" | cut -c1-16)
    cpu=$(echo "$user + $sys" | bc)
    echo "$np $wall $cpu $total $forest ${per_tree:-0} ${waiting:-0} $accuracy $forest_sha" >> "$results"
  done
done

/usr/bin/python3 - "$results" "$cores" <<'PY'
import statistics, sys
cores = int(sys.argv[2])
runs = {}
for line in open(sys.argv[1]):
    np, *numbers, accuracy, sha = line.split()
    runs.setdefault(int(np), []).append([float(x) for x in numbers] + [accuracy, sha])
med = {np: [statistics.median(r[i] for r in rs) for i in range(6)] + rs[0][6:] for np, rs in runs.items()}
base = min(np for np in med if np > 0)
t1_wall, t1_cpu, t1_forest = med[base][0] * base, med[base][1], med[base][3] * base
print(f"{'run':<18} {'wall s':>7} {'CPU s':>7} {'train s':>7} {'forest s':>8} {'speedup':>7} {'eff':>5}"
      f" {'eff/core':>8} {'forest eff':>10} {'work eff':>8} {'MB/tree':>7} {'wait s':>6} {'test acc':>8}  forest.json")
for np in sorted(med, key=lambda n: (n == 0, n)):
    wall, cpu, total, forest, per_tree, waiting, accuracy, sha = med[np]
    name = f"np {np} x 1 thread" if np else f"no mpirun x {cores} thr"
    workers = np if np else cores
    used = min(workers, cores)
    print(f"{name:<18} {wall:>7.2f} {cpu:>7.2f} {total:>7.2f} {forest:>8.2f} {t1_wall / wall:>7.2f}"
          f" {t1_wall / (workers * wall):>5.2f} {t1_wall / (used * wall):>8.2f}"
          f" {t1_forest / (workers * forest):>10.2f} {t1_cpu / cpu:>8.2f} {per_tree:>7.2f} {waiting:>6.2f}"
          f" {accuracy:>8}  {sha}")
print("wall: launch to exit; CPU: user + sys of all ranks; train, forest: rank 0's own figures (train: after"
      " reading the table); eff = T(np 1) / (workers * T), eff/core the same over the cores really there;"
      " work eff = CPU(np 1) / CPU (the efficiency on dedicated cores, waiting aside); MB/tree: allreduced"
      " by each rank per tree; wait s: rank 0 in allreduces (imbalance and transfer)")
shas = {m[7] for m in med.values()}
print("forest.json identical for every np" if len(shas) == 1 else "FORESTS DIFFER across np: " + ", ".join(shas))
sys.exit(0 if len(shas) == 1 else 1)
PY
