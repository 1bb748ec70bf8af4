#!/usr/bin/env bash
# Times `loadcast train` (median of 3 runs) on an ETL output folder and
# compares it with scikit-learn and XGBoost on the same encoded matrices.
# usage: bench/train.sh DATA_OUTPUT_DIR CONFIG [THREADS]
#   DATA_OUTPUT_DIR  the folder `loadcast etl` wrote (holds features/)
#   CONFIG           the storageconfig.json used for the ETL
#   THREADS          threads for loadcast and the peers (default 2)
# Environment: LOADCAST (default build/loadcast), PYTHON (default /usr/bin/python3).
set -euo pipefail

if [[ $# -lt 2 ]]; then
  sed -n '2,9p' "$0"
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

times=()
accuracy=""
for run in 1 2 3; do
  export_args=()
  [[ $run -eq 1 ]] && export_args=(--export-matrix "$matrix_dir")
  start=$(date +%s.%N)
  log=$("$loadcast" train "$config" --output "$out_dir" --threads "$threads" "${export_args[@]}")
  end=$(date +%s.%N)
  # Export time is not training time: take the forest's own figure from run 1 onwards.
  forest_s=$(sed -n 's/.*forest \([0-9.]*\) s, total.*/\1/p' <<<"$log")
  times+=("$forest_s")
  accuracy=$(sed -n 's/^Test Accuracy = //p' <<<"$log")
  echo "run $run: forest ${forest_s} s, wall $(echo "$end - $start" | bc) s, test accuracy $accuracy"
done
median=$(printf '%s\n' "${times[@]}" | sort -g | sed -n 2p)
echo "loadcast forest time, median of 3: $median s"
"$python" "$here/train_vs_sklearn.py" "$matrix_dir" --loadcast-seconds "$median" \
  --loadcast-accuracy "$accuracy" --threads "$threads"
