#!/usr/bin/env bash
# The tree's gates: every C++ file formatted as .clang-format says, and
# clang-tidy (the checks of .clang-tidy) at zero findings over src/ and app/.
#   scripts/lint.sh [BUILD_DIR=build]   (BUILD_DIR holds compile_commands.json)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}

files=$(git ls-files '*.cpp' '*.h')
if ! clang-format --dry-run --Werror $files 2>/tmp/loadcast-format.txt; then
  grep -m 20 'error:' /tmp/loadcast-format.txt >&2 || true
  echo "lint: files differ from .clang-format (run: git ls-files '*.cpp' '*.h' | xargs clang-format -i)" >&2
  exit 1
fi
echo "lint: formatting ok" >&2

[ -f "$build/compile_commands.json" ] || { echo "lint: no $build/compile_commands.json (build first)" >&2; exit 2; }
sources=$(git ls-files 'src/*.cpp' 'app/*.cpp')
if ! echo "$sources" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet 2>/dev/null >/tmp/loadcast-tidy.txt; then
  grep -E 'error:|warning:' /tmp/loadcast-tidy.txt | sort -u | head -40 >&2
  echo "lint: clang-tidy findings (see .clang-tidy)" >&2
  exit 1
fi
echo "lint: clang-tidy ok ($(echo "$sources" | wc -l) files)" >&2
