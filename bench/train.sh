#!/usr/bin/env bash
# Times `loadcast train` (median of 3 runs) on an ETL output folder and
# compares it with scikit-learn and XGBoost on the same encoded matrices.
# usage: bench/train.sh DATA_OUTPUT_DIR CONFIG [THREADS]
#   DATA_OUTPUT_DIR  the folder `loadcast etl` wrote (holds features/)
#   CONFIG           the storageconfig.json used for the ETL
#   THREADS          threads for loadcast and the peers (default 2)
# Environment: LOADCAST (default build/loadcast), PYTHON (default /usr/bin/python3),
#   PEERS (default "sklearn,xgboost"; e.g. PEERS=sklearn skips XGBoost).
# The ratio is the peer's fit time over loadcast's whole train command.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  sed -n '2,12p' "$0"
  exit 2
fi
out_dir=$1
config=$2
threads=${3:-2}
here=$(cd "$(dirname "$0")" && pwd)
loadcast=${LOADCAST:-$here/../build/loadcast}
python=${PYTHON:-/usr/bin/python3}
matrix_dir=$(mktemp -d)
trap 'rm -rf "$matrix_dir"' EXIT

# Run 0 exports the matrices (not timed); runs 1-3 time the whole command:
# reading the table, encoding, growing, evaluating and writing the bundle.
"$loadcast" train "$config" --output "$out_dir" --threads "$threads" \
  --export-matrix "$matrix_dir" >/dev/null
times=()
forest_times=()
accuracy=""
for run in 1 2 3; do
  start=$(date +%s.%N)
  log=$(/usr/bin/time -f 'peak %M KB' "$loadcast" train "$config" --output "$out_dir" \
          --threads "$threads" 2>&1)
  end=$(date +%s.%N)
  whole=$(echo "$end - $start" | bc)
  forest_s=$(sed -n 's/.*forest \([0-9.]*\) s, total.*/\1/p' <<<"$log")
  times+=("$whole")
  forest_times+=("$forest_s")
  accuracy=$(sed -n 's/^Test Accuracy = //p' <<<"$log")
  echo "run $run: whole command ${whole} s, forest ${forest_s} s, $(grep -o 'peak [0-9]* KB' <<<"$log"), test accuracy $accuracy"
done
median=$(printf '%s\n' "${times[@]}" | sort -g | sed -n 2p)
forest_median=$(printf '%s\n' "${forest_times[@]}" | sort -g | sed -n 2p)
echo "loadcast train, median of 3: whole command $median s (growing the forest $forest_median s)"
"$python" "$here/train_vs_sklearn.py" "$matrix_dir" --loadcast-seconds "$median" \
  --loadcast-accuracy "$accuracy" --threads "$threads" ${PEERS:+--peers "$PEERS"}
