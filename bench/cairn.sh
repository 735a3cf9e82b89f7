#!/usr/bin/env bash
# Benchmarks a running Cairn node at the same settings as redis.sh / etcd.sh: wrk PUT and GET
# (bench/wrk/put.lua, get.lua: 2 threads, 64 connections, keys uniform over KEYS), then the
# closed-loop generator `cairn bench` for each mix, for each value size.
#
#   bench/cairn.sh                                   # http://127.0.0.1:7070
#   bench/cairn.sh http://127.0.0.1:7070 --url http://127.0.0.1:7071 --url http://127.0.0.1:7072
#   QUERY='w=2&r=1' VALUE_SIZES=1024 bench/cairn.sh
#
# Arguments after the URL go to every `cairn bench` run (e.g. more --url for a cluster; wrk only
# uses the first URL). Settings (environment): VALUE_SIZES (default "100 1024"), KEYS (100000),
# DURATION (30s), WARMUP (5s), CONNECTIONS (64), THREADS (2), MIXES ("put=100 get=100
# get=90,put=10"), QUERY (appended to every request by wrk and cairn bench), CAIRN_JAR (default
# cairn-cli/target/cairn.jar, else the cairn-bench standalone jar), JAVA, OUT_DIR (JSON reports;
# default bench/results/cairn-<UTC time>), CAIRN_TOKEN (the bearer token; default: the admin
# credential in CAIRN_DATA, default ./cairn-data, when readable). Needs: wrk, a JDK 21+, a built jar.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
source "$here/lib.sh"

URL=${1:-http://127.0.0.1:7070}
shift || true
VALUE_SIZES=${VALUE_SIZES:-"100 1024"}
KEYS=${KEYS:-100000}
DURATION=${DURATION:-30s}
WARMUP=${WARMUP:-5s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
MIXES=${MIXES:-"put=100 get=100 get=90,put=10"}
QUERY=${QUERY:-}
OUT_DIR=${OUT_DIR:-$here/results/cairn-$(date -u +%Y%m%dT%H%M%SZ)}
JAVA=${JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/}java}
export QUERY

# The launcher jar takes `bench` as a subcommand; the standalone jar is the bench command itself.
if [[ -n "${CAIRN_JAR:-}" ]]; then
  bench_cmd=("$JAVA" -jar "$CAIRN_JAR" bench)
elif [[ -f "$repo/cairn-cli/target/cairn.jar" ]]; then
  bench_cmd=("$JAVA" -jar "$repo/cairn-cli/target/cairn.jar" bench)
else
  standalone=$(ls "$repo"/cairn-bench/target/cairn-bench-*-standalone.jar 2>/dev/null | head -1 || true)
  if [[ -z "$standalone" ]]; then
    echo "no jar: build cairn-cli (cairn.jar) or cairn-bench (standalone jar), or set CAIRN_JAR" >&2
    exit 2
  fi
  bench_cmd=("$JAVA" -jar "$standalone")
fi

case "$URL" in
  http://127.*|http://localhost*|http://\[::1\]*) ;;
  *) echo "refusing non-loopback URL $URL" >&2; exit 2 ;;
esac
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/kv/cairn-bench-probe" || true)
if [[ "$code" == "000" ]]; then
  echo "nothing answers at $URL" >&2
  exit 2
fi
mkdir -p "$OUT_DIR"
cairn_token "${CAIRN_DATA:-cairn-data}"

run_wrk() {
  local script=$1 size=$2 duration=$3
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency -s "$here/wrk/$script" "$URL" \
    -- "$KEYS" "$size"
}

bench_args=(--url "$URL" "$@" --connections "$CONNECTIONS" --threads "$THREADS" --keys "$KEYS")
if [[ -n "$QUERY" ]]; then
  bench_args+=(--query "$QUERY")
fi

machine_info
echo "# cairn: $URL (extra bench args: ${*:-none}) query=${QUERY:-none}"
echo "# bench command: ${bench_cmd[*]}"
echo "# $(wrk --version 2>&1 | head -1)"
echo "# threads=$THREADS connections=$CONNECTIONS keys=$KEYS duration=$DURATION warmup=$WARMUP"
echo "# JSON reports: $OUT_DIR"

status=0
for size in $VALUE_SIZES; do
  echo
  echo "## prefill value_size=$size"
  "${bench_cmd[@]}" "${bench_args[@]}" --value-size "$size" --prefill --mix put=1 \
    --warmup 0s --duration 1s | grep -E '^prefill done|^total' || status=1
  for script in put.lua get.lua; do
    echo
    echo "## wrk $script value_size=$size"
    echo "## command: QUERY=$QUERY wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency -s bench/wrk/$script $URL -- $KEYS $size"
    run_wrk "$script" "$size" "$WARMUP" >/dev/null
    load_note
    run_wrk "$script" "$size" "$DURATION"
  done
  for mix in $MIXES; do
    json="$OUT_DIR/bench-${mix//[=,]/_}-$size.json"
    echo
    echo "## cairn bench mix=$mix value_size=$size"
    echo "## command: ${bench_cmd[*]} ${bench_args[*]} --value-size $size --mix $mix --warmup $WARMUP --duration $DURATION --json $json"
    load_note
    "${bench_cmd[@]}" "${bench_args[@]}" --value-size "$size" --mix "$mix" \
      --warmup "$WARMUP" --duration "$DURATION" --json "$json" || status=1
  done
done
exit "$status"
