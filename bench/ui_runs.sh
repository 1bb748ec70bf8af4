#!/usr/bin/env bash
# The dashboard on a large run history: a workspace of N runs (default
# 10,000: copies of a real etl and train run, with their parameters, metrics
# and artifacts), `loadcast ui` on it, and the median time to first render in
# Debian's chromium of the runs page, a filtered runs page, a run and a
# comparison of two runs (5 loads each).
#   bench/ui_runs.sh [RUNS=10000]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/lib.sh"
count=${1:-10000}
bin=$(built_loadcast "$here" tests)
work=$(mktemp -d)
ui_pid=""
cleanup() { [ -n "$ui_pid" ] && kill "$ui_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cfg="$here/tests/golden/case/config.json"
"$bin" etl "$cfg" --output "$work/out" --workspace "$work/ws" >/dev/null
"$bin" train "$cfg" --output "$work/out" --workspace "$work/ws" >/dev/null
# Copies of the two runs, every row of theirs included, until there are COUNT.
/usr/bin/python3 - "$work/ws/runs.db" "$count" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
count = int(sys.argv[2])
columns = [r[1] for r in db.execute("PRAGMA table_info(runs)") if r[1] != "id"]
names = ", ".join(columns)
with db:
    for i in range(count - 2):
        source = 1 + i % 2
        new = db.execute(f"INSERT INTO runs ({names}) SELECT {names} FROM runs WHERE id = ?", (source,)).lastrowid
        for table in ("params", "metrics", "artifacts"):
            cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})") if r[1] != "run_id"]
            c = ", ".join(cols)
            db.execute(f"INSERT INTO {table} (run_id, {c}) SELECT ?, {c} FROM {table} WHERE run_id = ?", (new, source))
print(f"history: {db.execute('SELECT COUNT(*) FROM runs').fetchone()[0]} runs", file=sys.stderr)
PY

"$bin" ui --workspace "$work/ws" --port 0 > "$work/ui.out" 2>/dev/null &
ui_pid=$!
for _ in $(seq 100); do grep -q http "$work/ui.out" 2>/dev/null && break; sleep 0.05; done
base=$(grep -o 'http://[0-9.:]*' "$work/ui.out")
last=$count
echo "loadcast ui on a history of $count runs; median of 5 loads in chromium (headless), $(nproc) cores shared"
node "$here/bench/ui_first_render.cjs" 5 "$base/" "$base/?command=train&status=finished" \
  "$base/?page=50" "$base/runs/$last" "$base/compare?ids=$((last - 1)),$last"
