#!/usr/bin/env bash
# Runs the etcd.sh benchmark against a throwaway three-member etcd cluster on this machine:
# members m1..m3 on loopback (clients on CLIENT_BASE+i, peers on PEER_BASE+i), fresh data
# directories, all keys prefilled (etcd_prefill.py through member 1), then wrk with
# wrk/etcd-put.lua (puts) and wrk/etcd-get.lua (linearizable ranges) through each member's JSON
# gateway, the load spread over all three members like bench/cairn-cluster.sh does for Cairn:
# one wrk process, WRK_THREADS threads (default 3), thread i pointed at member i (NODES=..., see
# wrk/common.lua), CONNECTIONS/threads connections each (3 x 21 = 63). Followers forward puts to
# the leader and ask it for a read index on every linearizable get, as a client spread over the
# members would make them do. A fresh cluster per value size.
#
#   bench/etcd-cluster.sh
#   DURATION=5s WARMUP=2s TAG=-short bench/etcd-cluster.sh
#
# Output (raw, with the exact commands, summary table at the end):
#   RESULTS_DIR/etcd-<version>-cluster3<TAG>.txt
#
# Settings (environment): VALUE_SIZES (default "100"), KEYS (100000), DURATION (30s), WARMUP (5s,
# an unrecorded wrk run before each measured one), CONNECTIONS (64), WRK_THREADS (3), CLIENT_BASE
# (23790), PEER_BASE (23800), ETCD / ETCDCTL binaries, RESULTS_DIR (bench/results), TAG
# (file-name suffix). Needs: apt-get install -y etcd-server etcd-client wrk; python3, curl.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib.sh"

VALUE_SIZES=${VALUE_SIZES:-100}
KEYS=${KEYS:-100000}
DURATION=${DURATION:-30s}
WARMUP=${WARMUP:-5s}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-3}
CLIENT_BASE=${CLIENT_BASE:-23790}
PEER_BASE=${PEER_BASE:-23800}
ETCD=${ETCD:-etcd}
ETCDCTL=${ETCDCTL:-etcdctl}
RESULTS_DIR=${RESULTS_DIR:-$here/results}
TAG=${TAG:-}

version=$("$ETCD" --version | awk '/etcd Version/ {print $3}')
out_file="$RESULTS_DIR/etcd-$version-cluster3$TAG.txt"
mkdir -p "$RESULTS_DIR"

ids=(1 2 3)
client_url() { echo "http://127.0.0.1:$((CLIENT_BASE + $1))"; }
peer_url() { echo "http://127.0.0.1:$((PEER_BASE + $1))"; }
initial_cluster=""
nodes=""
endpoints=""
for i in "${ids[@]}"; do
  initial_cluster+="${initial_cluster:+,}m$i=$(peer_url "$i")"
  nodes+="${nodes:+,}127.0.0.1:$((CLIENT_BASE + i))"
  endpoints+="${endpoints:+,}$(client_url "$i")"
done
for i in "${ids[@]}"; do
  for port in $((CLIENT_BASE + i)) $((PEER_BASE + i)); do
    require_free_port "$port" "CLIENT_BASE / PEER_BASE"
  done
done

workdir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-etcd-cluster.XXXXXX")
declare -A etcd_pid=()
stop_cluster() {
  local i
  for i in "${!etcd_pid[@]}"; do stop_pid "${etcd_pid[$i]}"; done
  for i in "${!etcd_pid[@]}"; do wait "${etcd_pid[$i]}" 2>/dev/null || true; done
  etcd_pid=()
}
cleanup() {
  stop_cluster
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# member_cmd I DIR: sets the array cmd to member I's command line (the same flags as etcd.sh).
member_cmd() {
  local i=$1 dir=$2
  cmd=("$ETCD" --name "m$i" --data-dir "$dir/m$i"
    --listen-client-urls "$(client_url "$i")" --advertise-client-urls "$(client_url "$i")"
    --listen-peer-urls "$(peer_url "$i")" --initial-advertise-peer-urls "$(peer_url "$i")"
    --initial-cluster "$initial_cluster" --initial-cluster-state new --initial-cluster-token bench
    --quota-backend-bytes $((4 * 1024 * 1024 * 1024))
    --logger zap --log-outputs "$dir/m$i.log")
}

healthy() {
  local i
  for i in "${ids[@]}"; do
    curl -sf --max-time 2 "$(client_url "$i")/health" | grep -q '"health":"true"' || return 1
  done
}

start_cluster() {
  local dir=$1 i cmd
  mkdir -p "$dir"
  for i in "${ids[@]}"; do
    member_cmd "$i" "$dir"
    "${cmd[@]}" >"$dir/m$i.out" 2>&1 &
    etcd_pid[$i]=$!
  done
  if ! wait_until 60 healthy; then
    for i in "${ids[@]}"; do echo "--- m$i"; tail -5 "$dir/m$i.log" "$dir/m$i.out"; done
    return 1
  fi
}

# The gateway moved from /v3alpha (3.2) to /v3beta (3.3) to /v3 (3.4+); use the first that answers.
detect_api() {
  local api
  for api in /v3 /v3beta /v3alpha; do
    if [[ $(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"key":"AA=="}' \
        "$(client_url 1)$api/kv/range") == 200 ]]; then
      echo "$api"
      return 0
    fi
  done
  echo "no etcd JSON gateway found under /v3, /v3beta or /v3alpha" >&2
  return 1
}

# gRPC calls each member handled (its gateway calls its own gRPC server), Put + Range.
member_calls() {
  curl -sf --max-time 2 "$(client_url "$1")/metrics" \
    | awk '/^grpc_server_handled_total/ && /grpc_method="(Put|Range)"/ {s += $NF} END {printf "%d", s}'
}

with_spread() {
  local before=() i rc=0 line="## put+range calls each member's gRPC server handled during the run:"
  for i in "${ids[@]}"; do before[$i]=$(member_calls "$i" || echo 0); done
  "$@" || rc=$?
  for i in "${ids[@]}"; do line+=" m$i=$(( $(member_calls "$i" || echo 0) - before[i] ))"; done
  echo "$line"
  return $rc
}

conns=$(( CONNECTIONS / WRK_THREADS * WRK_THREADS ))
run_wrk() {
  local script=$1 size=$2 duration=$3
  ETCD_API=$api NODES=$nodes wrk -t"$WRK_THREADS" -c"$conns" -d"$duration" --latency \
    -s "$here/wrk/$script" "$(client_url 1)" -- "$KEYS" "$size"
}

summary=()
status=0
main() {
  machine_info
  echo "# $("$ETCD" --version | tr '\n' ' ')"
  echo "# $("$ETCDCTL" version | tr '\n' ' ')"
  echo "# $(wrk --version 2>&1 | head -1)"
  echo "# cluster: 3 members on this machine, default settings (fsync on every raft batch)"
  local i cmd size script out="$workdir/out.txt"
  for i in "${ids[@]}"; do
    member_cmd "$i" "<tmp>"
    echo "# member $i: ${cmd[*]}"
  done
  echo "# wrk_threads=$WRK_THREADS connections=$conns (per member $((conns / WRK_THREADS))) keys=$KEYS duration=$DURATION warmup=$WARMUP"
  for size in $VALUE_SIZES; do
    start_cluster "$workdir/size-$size" || return 1
    api=$(detect_api) || return 1
    echo
    echo "## etcd cluster value_size=$size gateway=$api"
    ETCDCTL_API=3 "$ETCDCTL" --endpoints "$endpoints" endpoint status -w table
    python3 "$here/etcd_prefill.py" "$(client_url 1)" "$api" "$KEYS" "$size" || return 1
    for script in etcd-put.lua etcd-get.lua; do
      echo
      echo "## $script value_size=$size"
      echo "## command: ETCD_API=$api NODES=$nodes wrk -t$WRK_THREADS -c$conns -d$DURATION --latency -s bench/wrk/$script $(client_url 1) -- $KEYS $size"
      run_wrk "$script" "$size" "$WARMUP" >/dev/null
      load_note
      with_spread run_wrk "$script" "$size" "$DURATION" | tee "$out" || status=1
      summary+=("$(awk -v l="${script%.lua} $size B" '/^RESULT/ {
          for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
          err = v["errors_connect"] + v["errors_read"] + v["errors_write"] + v["errors_status"] + v["errors_timeout"]
          printf "%-20s %10.0f %8.3f %8.3f %8.3f %8d", l, v["rps"], v["p50_ms"], v["p99_ms"], v["p99.9_ms"], err }' "$out")")
    done
    echo
    echo "## endpoint status after the runs:"
    ETCDCTL_API=3 "$ETCDCTL" --endpoints "$endpoints" endpoint status -w table
    stop_cluster
  done
  echo
  echo "## summary (wrk; ops/s, latency in ms; errors: connect+read+write+status+timeout)"
  printf '%-20s %10s %8s %8s %8s %8s\n' run ops/s p50 p99 p99.9 errors
  printf '%s\n' "${summary[@]}"
}

exec 3>&1
main > >(tee "$out_file" >&3) 2>&1 || status=1
sleep 1  # let tee finish writing
echo "results: $out_file" >&3
exit "$status"
