#!/usr/bin/env bash
# Overload and abuse against one Cairn node (issue: hardening): how much of their quiet goodput
# well-behaved clients keep while an abusive client runs, and goodput against offered load.
#
#   bench/overload.sh                              # ~7 min at the defaults
#   DURATION=5s CURVE_DURATION=5s TAG=-short bench/overload.sh
#
# Starts its own node (127.0.0.1, a free port, a fresh data directory removed on exit, heap HEAP),
# prefills KEYS keys of VALUE_SIZE bytes, then measures with `cairn bench` and `cairn abuse`
# (plan in overload-lib.sh):
#   1. quiet: CONNECTIONS closed-loop connections, mix MIX; its goodput is the capacity;
#   2. the open-loop curve: `cairn bench --rate` at LOADS x capacity over CURVE_CONNECTIONS
#      connections (latency from each request's intended time; unsent = dropped by the client's
#      bounded backlog, MAX_BACKLOG);
#   3. the quiet clients again while `cairn abuse` runs each of ABUSE_MODES against the node;
#   4. the quiet clients once more, after all the abuse.
# Every run samples the node each second (heap from /metrics, RSS from /proc, connections, the
# memory budget in use, how /health answers) and records the CPU the node, the abusive client,
# the bench and anything else took. Run it alone on the machine (under flock if others share it):
# the "anything else" column shows when something else took CPU.
#
# Output: RESULTS_DIR/cairn-<version>-overload<TAG>.txt (commands, raw reports, summary tables)
# and RESULTS_DIR/cairn-<version>-overload<TAG>-json/ (bench and abuse JSON, per-second samples).
#
# Settings (environment): HEAP (512m), NODE_SETS (extra --set k=v for the node), KEYS (100000),
# VALUE_SIZE (1024), CONNECTIONS (32), MIX (get=90,put=10), BENCH_THREADS (2), DURATION (15s),
# WARMUP (3s), JIT_WARMUP (10s: an unrecorded run first), RAMP (3: seconds the abuse runs before
# the measured clients start), ABUSE_MODES ("pipeline-no-read idle slowloris flood-large:100
# flood-large pipeline-no-read:100"; MODE:N runs MODE with N connections), FLOOD_CONNECTIONS
# (1000), FLOOD_VALUE_SIZE (262144), PIPELINE_CONNECTIONS (4), PIPELINE_VALUE_SIZE (65536),
# IDLE_CONNECTIONS (10000),
# SLOWLORIS_CONNECTIONS (1000), LOADS ("1 2 4 7 10"), CURVE_CONNECTIONS (512), CURVE_DURATION
# (10s), CURVE_WARMUP (2s), MAX_BACKLOG (1000), CAIRN_JAR, JAVA, RESULTS_DIR (bench/results), TAG.
# Needs: curl, python3, GNU time (/usr/bin/time), a JDK 21+, a built cairn-cli/target/cairn.jar,
# and an open-file limit above IDLE_CONNECTIONS + a few hundred (ulimit -n).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
source "$here/lib.sh"
source "$here/overload-lib.sh"

HEAP=${HEAP:-512m}
NODE_SETS=${NODE_SETS:-}
CAIRN_JAR=${CAIRN_JAR:-$repo/cairn-cli/target/cairn.jar}
JAVA=${JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/}java}
RESULTS_DIR=${RESULTS_DIR:-$here/results}
TAG=${TAG:-}

[[ -f "$CAIRN_JAR" ]] || { echo "no $CAIRN_JAR: build it with ./mvnw -q -pl cairn-cli -am package -DskipTests" >&2; exit 2; }
if (( $(ulimit -n) < IDLE_CONNECTIONS + 500 )); then
  echo "open-file limit $(ulimit -n) is below IDLE_CONNECTIONS + 500; raise it (ulimit -n) or lower IDLE_CONNECTIONS" >&2
  exit 2
fi
version=$("$JAVA" -jar "$CAIRN_JAR" --version | awk '{print $NF}')
version=${version%-SNAPSHOT}
base="$RESULTS_DIR/cairn-$version-overload$TAG"
json_dir="$base-json"
mkdir -p "$json_dir"
cairn=("$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -jar "$CAIRN_JAR")

workdir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-overload.XXXXXX")
declare -a node_urls=() node_pids=() node_logs=()
cleanup() {
  stop_sampler
  [[ -n "$abuser_pid" ]] && stop_pid "$abuser_pid"
  local i
  for i in "${!node_pids[@]}"; do stop_pid "${node_pids[$i]}"; wait "${node_pids[$i]}" 2>/dev/null || true; done
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(free_port)
node_cmd=("$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx"$HEAP"
  -jar "$CAIRN_JAR" start --http-port "$port" --data-dir "$workdir/node1")
for s in $NODE_SETS; do node_cmd+=(--set "$s"); done
"${node_cmd[@]}" >"$workdir/node1.log" 2>&1 &
node_pids[1]=$!
node_urls[1]="http://127.0.0.1:$port"
node_logs[1]="$workdir/node1.log"
abuse_nodes="1"
if ! wait_until 60 curl -sf "${node_urls[1]}/ready"; then
  tail -20 "$workdir/node1.log" >&2
  exit 1
fi
cairn_token "$workdir/node1"

describe_servers() {
  echo "# server: one node, ${node_cmd[*]//$workdir/<tmp>} (default settings otherwise: sync durability, http.maxConnections 10000, maxInflightBytes = maxUnflushedBytes = heap/8)"
}

status=0
exec 3>&1
run_plan > >(tee "$base.txt" >&3) 2>&1 || status=1
sleep 1  # let tee finish writing
echo "results: $base.txt $json_dir" >&3
exit "$status"
