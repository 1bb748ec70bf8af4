#!/usr/bin/env bash
# Installs every Debian package loadcast needs to build and test (pandas
# writes the bodies MLflow's clients send, Prometheus' promtool checks
# /metrics, nginx and wrk carry the replica test, chromium shows the
# dashboard, ONNX's checker validates the exported models), and the
# npm packages the tests start or read with (pinned, in tests/peers: the Azure
# Blob Storage emulator Azurite, the Parquet readers DuckDB and hyparquet,
# playwright-core, which drives chromium without downloading a browser, and
# ONNX Runtime);
# with --bench also the peers the benchmarks measure against (python3
# packages, DuckDB from npm). Idempotent, non-interactive, safe to re-run.
set -euo pipefail

BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libfast-float-dev
  libabsl-dev libxxhash-dev zlib1g-dev libzstd-dev
  libcpp-httplib-dev libboost-dev libsqlite3-dev libssl-dev libsimdjson-dev
  libcurl4-openssl-dev libpugixml-dev
  libprotobuf-dev protobuf-compiler libonnx-dev python3-onnx
  libopenmpi-dev openmpi-bin iproute2
  clang-format clang-tidy clang libclang-rt-14-dev
  python3 python3-pandas prometheus nginx wrk curl chromium
)
BENCH_PACKAGES=(python3-sklearn python3-xgboost python3-numpy hyperfine)

want_bench=0
for arg in "$@"; do
  case "$arg" in
    --bench) want_bench=1 ;;
    -h|--help) echo "usage: scripts/setup.sh [--bench]"; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

packages=("${BUILD_PACKAGES[@]}")
if [ "$want_bench" = 1 ]; then packages+=("${BENCH_PACKAGES[@]}"); fi
# Node.js may come from elsewhere than Debian; only install Debian's when none is on PATH.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

here=$(cd "$(dirname "$0")/.." && pwd)
peers="$here/tests/peers/node_modules"
if [ ! -f "$peers/azurite/dist/src/blob/main.js" ] || [ ! -d "$peers/@duckdb/node-api" ] ||
   [ ! -d "$peers/hyparquet-compressors" ] || [ ! -d "$peers/playwright-core" ] ||
   [ ! -d "$peers/onnxruntime-node" ]; then
  echo "setup: installing the test peers (blob emulator, Parquet readers, browser driver, ONNX Runtime)" >&2
  # onnxruntime-node carries its libonnxruntime.so; its install script would
  # only try to download a GPU build.
  (cd "$here/tests/peers" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --silent >/dev/null)
fi
if [ "$want_bench" = 1 ]; then
  if [ ! -d "$here/bench/node_modules/@duckdb/node-api" ]; then
    echo "setup: installing DuckDB for the benchmarks" >&2
    (cd "$here/bench" && npm install --no-audit --no-fund --silent >/dev/null)
  fi
fi
echo "setup: ok" >&2
