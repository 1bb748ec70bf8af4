#!/usr/bin/env bash
# Times `loadcast train` with boosted trees (median of 3 whole commands) on
# an ETL output folder and compares it with XGBoost hist and scikit-learn's
# HistGradientBoosting on the same encoded vectors, same rounds, depth and
# learning rate.
# usage: bench/boost_vs_peers.sh DATA_OUTPUT_DIR CONFIG [THREADS]
#   CONFIG  a configuration with "algorithm": "gradientBoostedTrees"; its
#           boosting numRounds, maxDepth and learningRate are given to the peers
# Environment: LOADCAST (default build/loadcast), PYTHON (default
#   /usr/bin/python3), PEERS (default "xgboost,sklearn").
set -euo pipefail

if [[ $# -lt 2 ]]; then
  sed -n '2,11p' "$0"
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

"$loadcast" train "$config" --output "$out_dir" --threads "$threads" \
  --export-matrix "$matrix_dir" >/dev/null
times=()
accuracy=""
for run in 1 2 3; do
  start=$(date +%s.%N)
  log=$(/usr/bin/time -f 'peak %M KB' "$loadcast" train "$config" --output "$out_dir" \
          --threads "$threads" 2>&1)
  end=$(date +%s.%N)
  whole=$(echo "$end - $start" | bc)
  times+=("$whole")
  accuracy=$(sed -n 's/^Test Accuracy = //p' <<<"$log")
  echo "run $run: whole command ${whole} s, $(grep -o 'boosting [0-9.]* s' <<<"$log"), $(grep -o 'peak [0-9]* KB' <<<"$log"), test accuracy $accuracy"
done
median=$(printf '%s\n' "${times[@]}" | sort -g | sed -n 2p)
echo "loadcast train, median of 3: whole command $median s"
read -r rounds depth rate < <("$python" -c "
import json, sys
b = json.load(open(sys.argv[1])).get('boosting', {})
print(b.get('numRounds', 200), b.get('maxDepth', 6), b.get('learningRate', 0.1))" "$config")
"$python" "$here/boost_vs_peers.py" "$matrix_dir" --loadcast-seconds "$median" \
  --loadcast-accuracy "$accuracy" --rounds "$rounds" --depth "$depth" --learning-rate "$rate" \
  --threads "$threads" ${PEERS:+--peers "$PEERS"}
