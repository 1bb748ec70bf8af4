#!/usr/bin/env bash
# The tree's gates: every C++ file formatted as .clang-format says, and
# clang-tidy (the checks of .clang-tidy) at zero findings over src/ and app/.
# clang-tidy reads each file with its own compile command: from a build
# folder of its own (BUILD_DIR, default build-lint), configured file by file
# (no unity batches) with only the generated ONNX headers built.
#   scripts/lint.sh [BUILD_DIR=build-lint]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-lint}

files=$(git ls-files '*.cpp' '*.h')
if ! clang-format --dry-run --Werror $files 2>/tmp/loadcast-format.txt; then
  grep -m 20 'error:' /tmp/loadcast-format.txt >&2 || true
  echo "lint: files differ from .clang-format (run: git ls-files '*.cpp' '*.h' | xargs clang-format -i)" >&2
  exit 1
fi
echo "lint: formatting ok" >&2

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOADCAST_BUILD_BENCH=ON \
  -DCMAKE_UNITY_BUILD=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
cmake --build "$build" --target loadcast_onnx_proto >/dev/null
sources=$(git ls-files 'src/*.cpp' 'app/*.cpp')
if ! echo "$sources" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet 2>/dev/null >/tmp/loadcast-tidy.txt; then
  grep -E 'error:|warning:' /tmp/loadcast-tidy.txt | sort -u | head -40 >&2
  echo "lint: clang-tidy findings (see .clang-tidy)" >&2
  exit 1
fi
echo "lint: clang-tidy ok ($(echo "$sources" | wc -l) files)" >&2
