#!/usr/bin/env bash
# Requests/s and p99 of /score (48 records) through nginx over 2 replicas
# (scripts/replicas.sh) against one replica directly, on the same model, the
# same connections and the same machine in the same run; prints both medians
# and their ratio. On a 2-core machine wrk, nginx and the replicas share the
# cores, so this shows the balancer's cost more than the replicas' gain.
#   bench/replicas.sh [--connections N=8] [--duration S=10] [--runs N=5]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/lib.sh"
connections=8 duration=10 runs=5
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) connections=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    -h|--help) sed -n 2,7p "$0"; exit 0 ;;
    *) echo "replicas.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
bin=$(built_loadcast "$here" tests)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" etl "$here/tests/golden/case/config.json" --output "$work/out" --workspace "$work/ws" >/dev/null
"$bin" train "$here/tests/golden/case/config.json" --output "$work/out" --workspace "$work/ws" >/dev/null

common=(--connections "$connections" --duration "$duration" --runs "$runs")
LOADCAST=$bin bash "$here/bench/serve_wrk.sh" "$work/out" "${common[@]}" | tee "$work/direct.txt"
echo
LOADCAST=$bin bash "$here/bench/serve_wrk.sh" "$work/out" "${common[@]}" --replicas 2 | tee "$work/nginx.txt"
echo
read -r d_rps _ d_p99 < <(awk '$1 == "median" {print $2, $3, $4}' "$work/direct.txt")
read -r n_rps _ n_p99 < <(awk '$1 == "median" {print $2, $3, $4}' "$work/nginx.txt")
awk -v dr="$d_rps" -v dp="$d_p99" -v nr="$n_rps" -v np="$n_p99" -v c="$(nproc)" 'BEGIN {
  printf "one replica directly:      %8.0f requests/s, p99 %s ms\n", dr, dp
  printf "2 replicas behind nginx:   %8.0f requests/s, p99 %s ms\n", nr, np
  printf "nginx + 2 replicas / direct: %.2fx requests/s, %.2fx p99 (%d cores shared by wrk, nginx and the replicas)\n", nr / dr, np / dp, c
}'
