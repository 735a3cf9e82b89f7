#!/usr/bin/env bash
# Runs wrk (2 threads, 64 connections) against a throwaway single-member etcd on loopback ports,
# through etcd's JSON gRPC gateway: puts (POST /v3/kv/put) and linearizable gets
# (POST /v3/kv/range), keys uniform over KEYS, all keys prefilled first. A fresh etcd and data
# directory per value size.
#
#   bench/etcd.sh                      # value sizes 100 and 1024
#   VALUE_SIZES=100 DURATION=10s bench/etcd.sh
#
# Settings (environment): VALUE_SIZES (default "100 1024"), KEYS (default 100000),
# DURATION (per measured wrk run, default 30s), WARMUP (unrecorded wrk run first, default 5s),
# CONNECTIONS (default 64), THREADS (default 2), ETCD / ETCDCTL binaries.
# Needs: apt-get install -y etcd-server etcd-client wrk
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib.sh"

VALUE_SIZES=${VALUE_SIZES:-"100 1024"}
KEYS=${KEYS:-100000}
DURATION=${DURATION:-30s}
WARMUP=${WARMUP:-5s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ETCD=${ETCD:-etcd}
ETCDCTL=${ETCDCTL:-etcdctl}

workdir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-etcd.XXXXXX")
etcd_pid=""
cleanup() {
  stop_pid "$etcd_pid"
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

start_etcd() {
  local name=$1
  client_port=$(free_port)
  peer_port=$(free_port)
  client_url="http://127.0.0.1:$client_port"
  local peer_url="http://127.0.0.1:$peer_port"
  "$ETCD" --name bench --data-dir "$workdir/$name" \
    --listen-client-urls "$client_url" --advertise-client-urls "$client_url" \
    --listen-peer-urls "$peer_url" --initial-advertise-peer-urls "$peer_url" \
    --initial-cluster "bench=$peer_url" --initial-cluster-state new \
    --quota-backend-bytes $((4 * 1024 * 1024 * 1024)) \
    --logger zap --log-outputs "$workdir/$name.log" >"$workdir/$name.out" 2>&1 &
  etcd_pid=$!
  wait_until 30 curl -sf "$client_url/health"
}

stop_etcd() {
  stop_pid "$etcd_pid"
  wait "$etcd_pid" 2>/dev/null || true
  etcd_pid=""
}

# The gateway moved from /v3alpha (3.2) to /v3beta (3.3) to /v3 (3.4+); use the first that answers.
detect_api() {
  local api
  for api in /v3 /v3beta /v3alpha; do
    if [[ $(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"key":"AA=="}' \
        "$client_url$api/kv/range") == 200 ]]; then
      echo "$api"
      return 0
    fi
  done
  echo "no etcd JSON gateway found under /v3, /v3beta or /v3alpha" >&2
  return 1
}

run_wrk() {
  local script=$1 size=$2 duration=$3
  ETCD_API=$api wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency \
    -s "$here/wrk/$script" "$client_url" -- "$KEYS" "$size"
}

machine_info
echo "# $("$ETCD" --version | tr '\n' ' ')"
echo "# $("$ETCDCTL" version | tr '\n' ' ')"
echo "# $(wrk --version 2>&1 | head -1)"
echo "# threads=$THREADS connections=$CONNECTIONS keys=$KEYS duration=$DURATION warmup=$WARMUP"

for size in $VALUE_SIZES; do
  start_etcd "size-$size"
  api=$(detect_api)
  echo
  echo "## etcd value_size=$size gateway=$api"
  python3 "$here/etcd_prefill.py" "$client_url" "$api" "$KEYS" "$size"
  for script in etcd-put.lua etcd-get.lua; do
    echo
    echo "## $script value_size=$size"
    echo "## command: ETCD_API=$api wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency -s bench/wrk/$script <url> -- $KEYS $size"
    run_wrk "$script" "$size" "$WARMUP" >/dev/null
    load_note
    run_wrk "$script" "$size" "$DURATION"
  done
  echo "## db size: $(ETCDCTL_API=3 "$ETCDCTL" --endpoints "$client_url" endpoint status -w table | sed -n 4p)"
  stop_etcd
done
