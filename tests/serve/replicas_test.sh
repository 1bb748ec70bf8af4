#!/usr/bin/env bash
# scripts/replicas.sh under load: two replicas of the golden case's model
# behind nginx, wrk posting 48 records to /score on 8 connections, and during
# the run a rolling reload (SIGHUP to the script) and then one replica killed
# outright (SIGKILL). Not one request may fail: wrk must see no socket error
# and no answer but 2xx, the reload must have reached both replicas, and the
# killed one must be serving again at the end.
#   tests/serve/replicas_test.sh LOADCAST_BINARY
set -euo pipefail
loadcast=$1
here=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in nginx wrk curl; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || fail "$tool is not installed (scripts/setup.sh)"
done

work=$(mktemp -d)
script_pid=""
cleanup() {
  [ -n "$script_pid" ] && kill -TERM "$script_pid" 2>/dev/null && wait "$script_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cp -r "$here/tests/golden/case/." "$work/case"
"$loadcast" etl "$work/case/config.json" --output "$work/out" --workspace "$work/ws" >"$work/etl.log" 2>&1 || { cat "$work/etl.log"; fail "etl"; }
"$loadcast" train "$work/case/config.json" --output "$work/out" --workspace "$work/ws" >"$work/train.log" 2>&1 ||
  { cat "$work/train.log"; fail "train"; }

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bash "$here/scripts/replicas.sh" --replicas 2 --port "$port" --dir "$work/replicas" --loadcast "$loadcast" -- \
  --model "$work/out/model" --stores "$work/out" --no-auth --no-access-log >"$work/replicas.out" 2>&1 &
script_pid=$!
for _ in $(seq 1 300); do grep -q '^replicas: ready' "$work/replicas.out" && break; sleep 0.1; done
grep -q '^replicas: ready' "$work/replicas.out" || { cat "$work/replicas.out"; fail "the replicas did not get ready"; }

# 48 records of one server, two days of hours.
/usr/bin/python3 - "$work/body.json" <<'PY'
import json, sys
records = [{"ServerIP": "210.181.165.92",
            "SessionStartHourTime": "2016-07-0%d %02d:00:00" % (2 + h // 24, h % 24),
            "peakLoadLag48": float(h)} for h in range(48)]
open(sys.argv[1], "w").write(json.dumps(records))
PY
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/body.json", "r"); wrk.body = f:read("*a"); f:close()
LUA

wrk -t2 -c8 -d8s -s "$work/post.lua" "http://127.0.0.1:$port/score" >"$work/wrk.txt" 2>&1 &
wrk_pid=$!
sleep 2
kill -HUP "$script_pid"
for _ in $(seq 1 100); do grep -q 'rolling reload done' "$work/replicas.out" && break; sleep 0.1; done
sleep 1
kill -KILL "$(cat "$work/replicas/replica-1.pid")"
wait "$wrk_pid" || fail "wrk failed: $(cat "$work/wrk.txt")"
cat "$work/wrk.txt"
cat "$work/replicas.out"

requests=$(grep -oE '^ +[0-9]+ requests in' "$work/wrk.txt" | grep -oE '[0-9]+')
[ "${requests:-0}" -ge 200 ] || fail "only ${requests:-0} requests were answered"
if grep -qE 'Socket errors|Non-2xx' "$work/wrk.txt"; then fail "requests failed through nginx"; fi
grep -q 'rolling reload done' "$work/replicas.out" || fail "the rolling reload did not finish"
for i in 1 2; do
  grep -q "replica $i: loadcast serve: reloaded" "$work/replicas.out" || fail "replica $i was not reloaded"
done
grep -q 'replica 1 .* exited with status 137; starting it again' "$work/replicas.out" ||
  fail "the killed replica was not noticed"
for _ in $(seq 1 100); do grep -q 'replica 1 ready again' "$work/replicas.out" && break; sleep 0.1; done
grep -q 'replica 1 ready again' "$work/replicas.out" || fail "the killed replica was not started again"
# Every replica answers the same prediction as the balancer.
answer=$(curl -fsS -H 'Content-Type: application/json' --data-binary "@$work/body.json" "http://127.0.0.1:$port/score")
for p in $(grep -oE 'ports [0-9 ]+' "$work/replicas.out" | head -1 | cut -d' ' -f2-); do
  direct=$(curl -fsS -H 'Content-Type: application/json' --data-binary "@$work/body.json" "http://127.0.0.1:$p/score")
  [ "$direct" = "$answer" ] || fail "replica on port $p answers otherwise than the balancer"
done
echo "PASS: $requests requests, none failed, through a rolling reload and a killed replica"
