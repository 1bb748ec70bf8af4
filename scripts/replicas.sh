#!/usr/bin/env bash
# N scoring replicas behind nginx, the shape of a scaled deployment on one
# host: each replica is a `loadcast serve` on a port of its own, nginx (Debian's
# package) balances over them and retries a request that a failing replica
# could not answer on the next one.
#
#   scripts/replicas.sh [--replicas N=2] [--host 127.0.0.1] [--port 8080]
#                       [--dir DIR] [--loadcast PATH] -- SERVE_OPTIONS...
#
# SERVE_OPTIONS go to every replica (--model is required; --stores,
# --keys-file or --no-auth, --threads ...). While it runs:
#   kill -HUP  PID   rolling reload: one replica at a time gets SIGHUP and
#                    must be ready again (/readyz) before the next one
#   kill -TERM PID   nginx and the replicas drain and stop
# A replica that exits is started again on its port. Open-source nginx checks
# upstreams only passively (a failed connection takes a replica out for a
# second), so this script does the active checks on /readyz itself.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

replicas=2
host=127.0.0.1
port=8080
dir=""
loadcast="$here/build/loadcast"
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --replicas) replicas=$2; shift 2 ;;
    --host) host=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --loadcast) loadcast=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    *) echo "replicas.sh: unknown option '$1' (serve's options go after --)" >&2; exit 2 ;;
  esac
done
serve_options=("$@")
say() { echo "replicas: $*"; }
fail() { echo "replicas.sh: error: $*" >&2; exit 2; }

[[ "$replicas" =~ ^[1-9][0-9]*$ ]] || fail "--replicas must be a positive integer, got '$replicas'"
[[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] ||
  fail "--port must be 1..65535, got '$port'"
[ -x "$loadcast" ] || fail "no loadcast program at $loadcast (build it, or pass --loadcast PATH)"
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || fail "nginx is not installed (scripts/setup.sh installs it)"
command -v curl >/dev/null || fail "curl is not installed"
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ ${#serve_options[@]} -gt 0 ] || fail "no serve options: pass -- --model DIR [--stores DIR] [--no-auth]"
if [ -z "$dir" ]; then dir=$(mktemp -d -t loadcast-replicas.XXXXXX); fi
mkdir -p "$dir"

declare -a pids ports
ready() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/readyz" 2>/dev/null; }

# Starts replica $1 on port $2 (0: a free one) and waits until it listens.
start_replica() {
  local i=$1 want=$2 out="$dir/replica-$1.out" line=""
  : >"$out"
  "$loadcast" serve "${serve_options[@]}" --host 127.0.0.1 --port "$want" \
    >"$out" 2>>"$dir/replica-$i.log" &
  pids[$i]=$!
  echo "${pids[$i]}" >"$dir/replica-$i.pid"
  for _ in $(seq 1 600); do
    line=$(grep -m1 -o 'listening on http://[^ ]*' "$out" || true)
    [ -n "$line" ] && break
    kill -0 "${pids[$i]}" 2>/dev/null || { tail -5 "$dir/replica-$i.log" >&2; fail "replica $i did not start"; }
    sleep 0.1
  done
  [ -n "$line" ] || fail "replica $i did not listen within 60 s"
  ports[$i]=${line##*:}
  for _ in $(seq 1 600); do ready "${ports[$i]}" && return 0; sleep 0.1; done
  fail "replica $i on port ${ports[$i]} is not ready (/readyz) within 60 s"
}

write_nginx_conf() {
  local servers="" i
  for i in $(seq 1 "$replicas"); do
    servers+="    server 127.0.0.1:${ports[$i]} max_fails=1 fail_timeout=1s;"$'\n'
  done
  mkdir -p "$dir/nginx-temp"
  # Bodies and answers stay in memory (16 MiB, serve's default body limit),
  # so nginx's workers never need a writable temp folder.
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/nginx-temp/body;
  proxy_temp_path $dir/nginx-temp/proxy;
  fastcgi_temp_path $dir/nginx-temp/fastcgi;
  uwsgi_temp_path $dir/nginx-temp/uwsgi;
  scgi_temp_path $dir/nginx-temp/scgi;
  client_max_body_size 16m;
  client_body_buffer_size 16m;
  proxy_max_temp_file_size 0;
  proxy_buffer_size 64k;
  proxy_buffers 64 64k;
  upstream loadcast {
$servers    keepalive 32;
  }
  server {
    listen $host:$port;
    location / {
      proxy_pass http://loadcast;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      # Scoring changes nothing, so a POST that a dying replica dropped is
      # safe to send to the next one.
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_connect_timeout 1s;
      proxy_read_timeout 120s;
    }
  }
}
CONF
}

stopping=0
reload_wanted=0
stop_all() {
  stopping=1
  [ -f "$dir/nginx.pid" ] && kill -QUIT "$(cat "$dir/nginx.pid")" 2>/dev/null || true
  for i in $(seq 1 "$replicas"); do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  say "stopped"
}
trap 'stop_all; exit 0' TERM INT
trap 'reload_wanted=1' HUP

# The replica's reload lines so far, to see its next one.
reloads() { grep -c 'loadcast serve: reload' "$dir/replica-$1.log" 2>/dev/null || true; }

rolling_reload() {
  local i before
  for i in $(seq 1 "$replicas"); do
    before=$(reloads "$i")
    kill -HUP "${pids[$i]}"
    for _ in $(seq 1 600); do [ "$(reloads "$i")" -gt "$before" ] && break; sleep 0.1; done
    grep 'loadcast serve: reload' "$dir/replica-$i.log" | tail -1 | sed "s/^/replicas: replica $i: /"
    for _ in $(seq 1 600); do ready "${ports[$i]}" && break; sleep 0.1; done
  done
  say "rolling reload done"
}

for i in $(seq 1 "$replicas"); do start_replica "$i" 0; done
write_nginx_conf
"$nginx_bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" -g 'daemon off;' \
  2>>"$dir/nginx-error.log" &
nginx_pid=$!
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null --max-time 2 "http://$host:$port/readyz" 2>/dev/null && break
  kill -0 "$nginx_pid" 2>/dev/null || { tail -5 "$dir/nginx-error.log" >&2; fail "nginx did not start"; }
  sleep 0.1
done
say "$replicas replicas on ports ${ports[*]} behind http://$host:$port (nginx, pid $nginx_pid); logs in $dir"
say "ready; kill -HUP $$ reloads them one at a time, kill $$ stops them"

while [ "$stopping" = 0 ]; do
  sleep 0.5 &
  wait $! || true
  if [ "$reload_wanted" = 1 ]; then
    reload_wanted=0
    rolling_reload
  fi
  kill -0 "$nginx_pid" 2>/dev/null || { stop_all; fail "nginx exited (see $dir/nginx-error.log)"; }
  for i in $(seq 1 "$replicas"); do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      wait "${pids[$i]}" 2>/dev/null && code=0 || code=$?
      say "replica $i (pid ${pids[$i]}) exited with status $code; starting it again on port ${ports[$i]}"
      start_replica "$i" "${ports[$i]}"
      say "replica $i ready again (pid ${pids[$i]})"
    fi
  done
done
