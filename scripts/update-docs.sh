#!/usr/bin/env bash
# Rewrites the generated tables of README.md and docs/*.md (the sections
# between `<!-- begin: NAME -->` and `<!-- end: NAME -->`) from the code's
# declarations; the Docs tests check that they are current.
#   scripts/update-docs.sh [BUILD_DIR=build]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cmake --build "$build" --target loadcast_tests >/dev/null
LOADCAST_UPDATE_DOCS=1 "$build/tests/loadcast_tests" --gtest_filter='Docs.GeneratedTablesMatchTheDeclarations' >/dev/null
git status --short README.md docs
