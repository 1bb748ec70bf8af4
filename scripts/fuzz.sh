#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (ASan + UBSan) and runs
# each for SECONDS from its seed corpus and the kept findings, as many at
# once as there are cores. New coverage
# is kept in build-fuzz/corpus/TARGET (not in the tree); a finding stops the
# run with its input saved as fuzz/regressions/TARGET/crash-..., which ctest
# then replays (commit it with the fix).
#   scripts/fuzz.sh [SECONDS=60] [TARGET...]   targets: line_parser chunk_reader
#                                              service config bundle parsers parquet
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(line_parser chunk_reader service config bundle parsers parquet)

cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOADCAST_FUZZ=ON \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1" -DCMAKE_UNITY_BUILD=ON \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang >/dev/null
cmake --build build-fuzz -j"$(nproc)" $(printf -- '--target fuzz_%s ' "${targets[@]}")

# One target per core at a time: each libFuzzer run is a single process.
run_target() {
  local t=$1
  mkdir -p "build-fuzz/corpus/$t" "fuzz/regressions/$t"
  echo "fuzz: $t for ${seconds} s" >&2
  if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "build-fuzz/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
      -print_final_stats=1 -artifact_prefix="fuzz/regressions/$t/" \
      "build-fuzz/corpus/$t" "fuzz/corpus/$t" "fuzz/regressions/$t" 2>"build-fuzz/$t.log"; then
    echo "fuzz: $t found something (build-fuzz/$t.log; input in fuzz/regressions/$t/)" >&2
    tail -30 "build-fuzz/$t.log" >&2
    return 1
  fi
  grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "build-fuzz/$t.log" | sed "s/^/fuzz: $t: /" >&2 || true
  grep -E '^#[0-9]+.*(DONE|cov:)' "build-fuzz/$t.log" | tail -1 | sed "s/^/fuzz: $t: /" >&2 || true
}

status=0
parallel=$(nproc)
pids=()
for t in "${targets[@]}"; do
  run_target "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$parallel" ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
