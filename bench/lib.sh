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

# Starts the blob emulator (Azurite, in memory) on a free loopback port, its
# log in WORK/azurite.log, and waits for it; sets `azurite` (its PID) and
# `endpoint` (the path-style address of its account). Stop it with
# `kill $azurite`.
#   start_azurite ROOT WORK
start_azurite() {
  local port
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  node "$1/tests/peers/node_modules/azurite/dist/src/blob/main.js" --blobHost 127.0.0.1 \
    --blobPort "$port" --inMemoryPersistence --disableTelemetry --silent --loose > "$2/azurite.log" 2>&1 &
  azurite=$!
  endpoint="http://127.0.0.1:$port/devstoreaccount1"
  for _ in $(seq 100); do curl -s -o /dev/null "$endpoint" && break; sleep 0.2; done
}

# The median of the numbers in FILE, one per line.
#   median FILE
median() {
  /usr/bin/python3 -c "import statistics,sys; print(statistics.median(float(x) for x in open(sys.argv[1])))" "$1"
}
