#!/usr/bin/env bash
# `loadcast etl` across two "hosts": two network namespaces joined by a veth
# pair (10.77.0.1/24, 10.77.0.2/24); mpirun runs in the first and reaches the
# second through a plm_rsh_agent that runs the remote command with
# `ip netns exec`, MPI traffic on the veth link only. The job must give the
# tables and line accounting of one process. Needs root and `ip netns`
# (skipped, exit 77, otherwise); the namespaces are removed on any exit.
#   tests/dist/netns_etl_test.sh LOADCAST_BINARY
set -euo pipefail
loadcast=$1
here=$(cd "$(dirname "$0")" && pwd)
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces"
command -v ip > /dev/null || skip "the ip command (iproute2) is not installed"
command -v mpirun > /dev/null || fail "mpirun is not installed (openmpi-bin)"

# Names unique to this run, so parallel runs do not collide.
tag=lc$$
ns_a=${tag}a
ns_b=${tag}b
work=$(mktemp -d)
cleanup() {
  ip netns del "$ns_a" 2> /dev/null || true
  ip netns del "$ns_b" 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# Namespaces of an earlier run that was killed outright (SIGKILL skips traps).
for old in $(ip netns list 2> /dev/null | grep -oE '^lc[0-9]+[ab]\b' || true); do
  pid=${old#lc}
  pid=${pid%[ab]}
  kill -0 "$pid" 2> /dev/null || ip netns del "$old" 2> /dev/null || true
done
ip netns add "$ns_a" 2> "$work/netns.err" || skip "ip netns is not available here: $(cat "$work/netns.err")"
ip netns add "$ns_b"
ip link add "${tag}x" type veth peer name "${tag}y"
ip link set "${tag}x" netns "$ns_a"
ip link set "${tag}y" netns "$ns_b"
ip -n "$ns_a" addr add 10.77.0.1/24 dev "${tag}x"
ip -n "$ns_b" addr add 10.77.0.2/24 dev "${tag}y"
for ns in "$ns_a" "$ns_b"; do ip -n "$ns" link set lo up; done
ip -n "$ns_a" link set "${tag}x" up
ip -n "$ns_b" link set "${tag}y" up

# The "ssh" of mpirun: host name first, then the command for a remote shell.
cat > "$work/agent.sh" << AGENT
#!/bin/sh
host=\$1
shift
case "\$host" in
  10.77.0.1) ns=$ns_a ;;
  10.77.0.2) ns=$ns_b ;;
  *) echo "agent: unknown host \$host" >&2; exit 1 ;;
esac
exec ip netns exec "\$ns" sh -c "\$*"
AGENT
chmod +x "$work/agent.sh"
printf '10.77.0.1 slots=2\n10.77.0.2 slots=1\n' > "$work/hosts"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export ASAN_OPTIONS=detect_leaks=0  # see tests/support/mpirun.h
mpirun_two_hosts() {
  ip netns exec "$ns_a" timeout -k 10 240 mpirun --hostfile "$work/hosts" -np 3 \
    --mca plm_rsh_agent "$work/agent.sh" --mca btl tcp,self \
    --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 "$@"
}

# The ranks really are on both hosts.
mpirun_two_hosts sh -c 'ip -o -4 addr show | grep -o "10\.77\.0\.[12]/"' > "$work/where.txt" ||
  fail "mpirun across the namespaces failed: $(cat "$work/where.txt")"
[ "$(sort "$work/where.txt" | tr -d '\n')" = "10.77.0.1/10.77.0.1/10.77.0.2/" ] ||
  fail "ranks not placed on both hosts: $(tr '\n' ' ' < "$work/where.txt")"

"$loadcast" generate --out "$work/data" --start 2016-06-01 --end 2016-06-08 --servers 20 --size 2M \
  --dirty-rate 0.03 --seed 13 2> /dev/null
cat > "$work/config.json" << JSON
{"storageAccount": "a", "storageKey": "", "storageContainer": "c",
 "dataFile": "$work/data/2016/06/*/*/request.csv", "duration": "ONE_MONTH"}
JSON
etl() { echo "$work/config.json --chunk-mb 0.0625 --threads 1 --workspace $work/ws --output $work/$1"; }
"$loadcast" etl $(etl one) > "$work/one.log" 2>&1 || fail "etl in one process: $(cat "$work/one.log")"
mpirun_two_hosts "$loadcast" etl $(etl two) > "$work/two.log" 2>&1 ||
  fail "etl across two hosts: $(cat "$work/two.log")"

rows() { find "$1" -name 'part-*.csv' -exec tail -q -n +2 {} + | LC_ALL=C sort; }
for table in features hourly daily; do
  [ -n "$(rows "$work/one/$table" | head -c 1)" ] || fail "$table is empty"
  cmp -s <(rows "$work/one/$table") <(rows "$work/two/$table") || fail "$table differs across hosts"
done
# The line accounting and counts (etl_summary.json is one key per line).
accounting='"(lines|accepted|outside_window|filtered_ip|blank|field_count|bad_timestamp|bad_server_ip|'
accounting+='TotalLoad|MbytesTransferred|SubService_[1-5]_Load|SecureBytes_Load|servers|rows|dailyRows)":'
summary() { grep -E "$accounting" "$1" | tr -d ' ,' | sort; }
[ "$(summary "$work/one/etl_summary.json" | wc -l)" = 19 ] || fail "unexpected etl_summary.json in one process"
cmp -s <(summary "$work/one/etl_summary.json") <(summary "$work/two/etl_summary.json") ||
  fail "line accounting differs across hosts"
grep -q '"ranks": 3' "$work/two/etl_summary.json" || fail "etl_summary.json does not show 3 ranks"
echo "PASS: 3 ranks on two hosts, same tables and line accounting as one process"
