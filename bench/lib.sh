# Shared by the benchmark scripts (sourced).

# The generated sessions of SIZE (seed 7, the seed's folder layout) under
# bench/data/sessions-SIZE, made once and kept between runs; prints the path.
#   generated_sessions LOADCAST SIZE
generated_sessions() {
  local data
  data="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/data/sessions-$2"
  if [ ! -f "$data/.complete" ]; then
    rm -rf "$data"
    "$1" generate --out "$data" --size "$2" --seed 7 >&2
    touch "$data/.complete"
  fi
  echo "$data"
}

# Sets up the benchmark peers, builds the release program and prints its path.
# With `tests`, only what the tests need (chromium, nginx, wrk), for the
# benchmarks that have no peer of their own.
#   built_loadcast ROOT [tests]
built_loadcast() {
  if [ "${2:-}" = tests ]; then bash "$1/scripts/setup.sh" >&2; else bash "$1/scripts/setup.sh" --bench >&2; fi
  cmake -S "$1" -B "$1/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$1/build" --target loadcast >/dev/null
  echo "$1/build/loadcast"
}
