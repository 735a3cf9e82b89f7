#!/usr/bin/env bash
# Runs redis-benchmark (SET and GET, 64 connections, no pipelining) against throwaway redis-servers
# on a free loopback port: (a) persistence off, (b) AOF with fsync on every write.
#
#   bench/redis.sh                       # value sizes 100 and 1024
#   VALUE_SIZES="100" REQUESTS=200000 bench/redis.sh
#
# Settings (environment): VALUE_SIZES (default "100 1024"), KEYS (distinct keys, default 100000),
# REQUESTS (per test without persistence, default 1000000), FSYNC_REQUESTS (per test with
# appendfsync always, default 200000), CLIENTS (default 64), REDIS_SERVER / REDIS_BENCHMARK.
# Needs: apt-get install -y redis-server redis-tools
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib.sh"

VALUE_SIZES=${VALUE_SIZES:-"100 1024"}
KEYS=${KEYS:-100000}
REQUESTS=${REQUESTS:-1000000}
FSYNC_REQUESTS=${FSYNC_REQUESTS:-200000}
CLIENTS=${CLIENTS:-64}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-redis-benchmark}

workdir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-redis.XXXXXX")
server_pid=""
cleanup() {
  stop_pid "$server_pid"
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

# start_redis NAME ARGS...: starts redis-server on a fresh port and data dir; sets port, server_pid.
start_redis() {
  local name=$1; shift
  port=$(free_port)
  mkdir -p "$workdir/$name"
  "$REDIS_SERVER" --bind 127.0.0.1 --port "$port" --dir "$workdir/$name" --daemonize no \
    --protected-mode yes --logfile "$workdir/$name/redis.log" "$@" &
  server_pid=$!
  wait_until 10 redis-cli -h 127.0.0.1 -p "$port" ping
}

stop_redis() {
  stop_pid "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

machine_info
echo "# $("$REDIS_SERVER" --version)"
echo "# $("$REDIS_BENCHMARK" --version 2>/dev/null || echo "redis-benchmark (no --version)")"
echo "# clients=$CLIENTS keys=$KEYS requests=$REQUESTS fsync_requests=$FSYNC_REQUESTS pipeline=1"

run_mode() {
  local mode=$1 requests=$2; shift 2
  for size in $VALUE_SIZES; do
    start_redis "$mode-$size" "$@"
    echo
    echo "## mode=$mode value_size=$size requests=$requests server_args=${*@Q}"
    echo "## command: $REDIS_BENCHMARK -h 127.0.0.1 -p <port> -c $CLIENTS -d $size -t set,get -n $requests -r $KEYS --csv"
    load_note
    "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$port" -c "$CLIENTS" -d "$size" -t set,get \
      -n "$requests" -r "$KEYS" --csv
    echo "## keys after run: $(redis-cli -h 127.0.0.1 -p "$port" dbsize)"
    stop_redis
  done
}

run_mode no-persistence "$REQUESTS" --save '' --appendonly no
run_mode aof-fsync-always "$FSYNC_REQUESTS" --save '' --appendonly yes --appendfsync always
