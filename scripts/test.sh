#!/usr/bin/env bash
# Sets up, builds from scratch and runs every test: the release build
# (warnings are errors) with the formatting and clang-tidy gates, the whole
# suite again under AddressSanitizer + UndefinedBehaviorSanitizer, the
# threaded tests under ThreadSanitizer, and the fuzz targets for a bounded
# time. Any finding fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
jobs=$(nproc)

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOADCAST_BUILD_BENCH=ON -DLOADCAST_WERROR=ON
cmake --build build -j"$jobs"
bash scripts/lint.sh build
ctest --test-dir build --output-on-failure -j"$jobs"

cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLOADCAST_SANITIZE=ON -DLOADCAST_BUILD_BENCH=OFF
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan --output-on-failure -j"$jobs"

# The tests that run work on several threads (the pool, ingest from files
# and blobs, features, encoding, forest, prediction, generation, Parquet
# tables, the ETL and training on ranks that are threads). MPI processes and
# the service are left out: OpenMPI and Asio are not built for
# ThreadSanitizer.
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOADCAST_SANITIZE_THREAD=ON \
  -DLOADCAST_BUILD_BENCH=OFF
cmake --build build-tsan -j"$jobs" --target loadcast_tests loadcast loadcast_with_faults
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir build-tsan --output-on-failure -j"$jobs" \
  -R '^(ThreadPool|BlobTest|ParquetTablesTest|ParquetFile|PipelineTest|EtlOnRanks|Forest|Encode|Generate|Threads/GoldenEtlTest|GoldenEtlFilterTest|AdversarialTest|BoundedAggregate|SpillEtlTest|ChunkSourceTest|LineParserTest|Model|OutputFaults|LocalCommunicator\.)' \
  -E 'Mpi|Death'

# The fuzz targets (fuzz/), built with clang under ASan and UBSan, each run
# for a bounded time from its seed corpus and the kept findings; their kept
# inputs were replayed by ctest in both builds above.
bash scripts/fuzz.sh "${LOADCAST_FUZZ_SECONDS:-30}"
