#!/usr/bin/env bash
# Benchmarks a three-node Cairn cluster (N=3) on this machine: three `cairn start` processes on
# loopback (zones zone-a/b/c), fresh data directories, every run driving all nodes at once.
#
#   bench/cairn-cluster.sh
#   DURATION=5s WARMUP=2s TAG=-short bench/cairn-cluster.sh       # a quick check of the script
#
# With all three nodes up: prefill KEYS keys (cairn bench --prefill, default quorum), then for each
# of PUT w=1, w=2 (quorum), w=3 (all) and GET r=1, r=2 (per-request quorum as the query parameter
# ?w= / ?r=), first wrk + Lua, then `cairn bench`. Then kill -9 node DOWN_NODE, wait until both
# other nodes' /admin/cluster show it "alive":false, and run PUT w=2, GET r=1 and GET r=2 against
# the two live nodes.
#
# How load is spread over the nodes (every node coordinates a share of the requests):
#   wrk          one process, WRK_THREADS threads (default: one per live node); thread i is pointed
#                at node i (NODES=..., see wrk/common.lua), with CONNECTIONS/threads connections
#                each: 3 x 21 = 63 with all up, 2 x 32 = 64 with one down. wrk merges the
#                latency histograms of its threads, so the percentiles are over all nodes.
#   cairn bench  --url per live node; its CONNECTIONS connections go round-robin over the URLs
#                (22/21/21, or 32/32), on BENCH_THREADS event-loop threads.
# Before each run, one curl PUT (or GET) at the same quorum records the Cairn-Acks (Cairn-Replies)
# header; after each run, how many requests each node's HTTP front served during it.
#
# Output (raw, with the exact commands, and a summary table at the end of each file):
#   RESULTS_DIR/cairn-<version>-cluster3<TAG>-all-up.txt     all three nodes up
#   RESULTS_DIR/cairn-<version>-cluster3<TAG>-one-down.txt   node DOWN_NODE killed
#   RESULTS_DIR/cairn-<version>-cluster3<TAG>-json/          cairn bench JSON reports
#
# Settings (environment): KEYS (100000), VALUE_SIZE (100), DURATION (30s), WARMUP (5s, unrecorded
# wrk run before each measured one; cairn bench's own --warmup), CONNECTIONS (64), WRK_THREADS
# (default: the number of live nodes), BENCH_THREADS (2), CLIENTS ("wrk bench"), PUT_QUORUMS
# ("1 2 3"), GET_QUORUMS ("1 2"), DOWN_QUORUMS ("put:2 get:1 get:2"), DOWN_NODE (3),
# HTTP_BASE (7300: node i serves HTTP on HTTP_BASE+i), INTERNODE_BASE (7400), HEAP (1g per node),
# NODE_SETS (extra `--set k=v` for every node, space-separated), CAIRN_JAR
# (cairn-cli/target/cairn.jar), JAVA, RESULTS_DIR (bench/results), TAG (file-name suffix, e.g.
# -short for a check run), KEEP_LOGS (1: copy node logs next to the results).
# Needs: wrk, curl, python3, a JDK 21+, a built cairn-cli/target/cairn.jar.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
source "$here/lib.sh"

KEYS=${KEYS:-100000}
VALUE_SIZE=${VALUE_SIZE:-100}
DURATION=${DURATION:-30s}
WARMUP=${WARMUP:-5s}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-}
BENCH_THREADS=${BENCH_THREADS:-2}
CLIENTS=${CLIENTS:-"wrk bench"}
PUT_QUORUMS=${PUT_QUORUMS:-"1 2 3"}
GET_QUORUMS=${GET_QUORUMS:-"1 2"}
# Empty (DOWN_QUORUMS=) skips the one-node-down measurements; unset gives the default list.
DOWN_QUORUMS=${DOWN_QUORUMS-"put:2 get:1 get:2"}
DOWN_NODE=${DOWN_NODE:-3}
HTTP_BASE=${HTTP_BASE:-7300}
INTERNODE_BASE=${INTERNODE_BASE:-7400}
HEAP=${HEAP:-1g}
NODE_SETS=${NODE_SETS:-}
CAIRN_JAR=${CAIRN_JAR:-$repo/cairn-cli/target/cairn.jar}
JAVA=${JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/}java}
# Cairn needs Java 21+; the machine's default java may be older (Debian 12: 17).
if ! "$JAVA" -version 2>&1 | grep -Eq 'version "(2[1-9]|[3-9][0-9])'; then
  for candidate in /usr/lib/jvm/*/bin/java; do
    if "$candidate" -version 2>&1 | grep -Eq 'version "(2[1-9]|[3-9][0-9])'; then JAVA=$candidate; fi
  done
fi
RESULTS_DIR=${RESULTS_DIR:-$here/results}
TAG=${TAG:-}
KEEP_LOGS=${KEEP_LOGS:-0}

if [[ ! -f "$CAIRN_JAR" ]]; then
  echo "no $CAIRN_JAR: build it with ./mvnw -q -pl cairn-cli -am package -DskipTests, or set CAIRN_JAR" >&2
  exit 2
fi
version=$("$JAVA" -jar "$CAIRN_JAR" --version | awk '{print $NF}')
version=${version%-SNAPSHOT}
base="$RESULTS_DIR/cairn-$version-cluster3$TAG"
json_dir="$base-json"
mkdir -p "$json_dir"

ids=(1 2 3)
zones=(zone-a zone-b zone-c)
members=""
for i in "${ids[@]}"; do
  members+="${members:+,}$i/${zones[$((i - 1))]}/127.0.0.1:$((HTTP_BASE + i))/127.0.0.1:$((INTERNODE_BASE + i))"
done
http_url() { echo "http://127.0.0.1:$((HTTP_BASE + $1))"; }

for i in "${ids[@]}"; do
  for port in $((HTTP_BASE + i)) $((INTERNODE_BASE + i)); do
    require_free_port "$port" "HTTP_BASE / INTERNODE_BASE"
  done
done

workdir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-cluster.XXXXXX")
declare -A node_pid=()
cleanup() {
  local i
  for i in "${!node_pid[@]}"; do stop_pid "${node_pid[$i]}"; done
  for i in "${!node_pid[@]}"; do wait "${node_pid[$i]}" 2>/dev/null || true; done
  if [[ "$KEEP_LOGS" == 1 ]]; then
    for i in "${ids[@]}"; do cp "$workdir/node$i.log" "$base-node$i.log" 2>/dev/null || true; done
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# node_cmd I: sets the array cmd to node I's command line.
node_cmd() {
  local i=$1 s
  cmd=("$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx"$HEAP"
    -jar "$CAIRN_JAR" start --node-id "$i" --http-port "$((HTTP_BASE + i))" --data-dir "$workdir/node$i"
    --set "cluster.members=$members")
  for s in $NODE_SETS; do cmd+=(--set "$s"); done
}

start_node() {
  local cmd
  node_cmd "$1"
  "${cmd[@]}" >"$workdir/node$1.log" 2>&1 &
  node_pid[$1]=$!
}

# Prints "id:alive id:alive ..." as node $1 sees the cluster: true (every shard counts it alive),
# false (every shard counts it down), or mixed (its shards disagree for a moment).
cluster_view() {
  curl -sf --max-time 2 "$(http_url "$1")/admin/cluster" | python3 -c '
import json, sys
v = json.load(sys.stdin)
print(" ".join("%d:%s" % (m["id"], "true" if m["alive"] else "false" if m.get("down", True) else "mixed") for m in v["members"]))'
}

all_alive() {
  local i
  for i in "${ids[@]}"; do
    [[ "$(cluster_view "$i")" == "1:true 2:true 3:true" ]] || return 1
  done
}

# seen_down NODE: every other node reports NODE alive:false.
seen_down() {
  local i
  for i in "${ids[@]}"; do
    [[ $i == "$1" ]] && continue
    [[ " $(cluster_view "$i") " == *" $1:false "* ]] || return 1
  done
}

# Sum of the HTTP request counters of node $1 (all routes).
node_requests() {
  curl -sf --max-time 2 "$(http_url "$1")/metrics" \
    | awk '/^cairn_http_request_duration_seconds_count/ {s += $NF} END {printf "%d", s}'
}

# Runs a command, then prints how many requests each live node served meanwhile.
with_spread() {
  local before=() i rc=0 line="## requests served per node during the run:"
  for i in "${live[@]}"; do before[$i]=$(node_requests "$i" || echo 0); done
  "$@" || rc=$?
  for i in "${live[@]}"; do line+=" node$i=$(( $(node_requests "$i" || echo 0) - before[$i] ))"; done
  echo "$line"
  return $rc
}

bench_cmd=("$JAVA" -jar "$CAIRN_JAR" bench)
summary=()

# One probe request at the quorum, to record what the header says.
probe() {
  local op=$1 q=$2 url
  url="$(http_url "${live[0]}")/kv/cairn-bench-probe"
  if [[ $op == put ]]; then
    echo "## probe: curl -X PUT $url?w=$q -> $(curl -s -o /dev/null -D - -X PUT --data-binary probe "$url?w=$q" \
      | tr -d '\r' | grep -iE '^(HTTP/|cairn-acks)' | tr '\n' ' ')"
  else
    echo "## probe: curl $url?r=$q -> $(curl -s -o /dev/null -D - "$url?r=$q" \
      | tr -d '\r' | grep -iE '^(HTTP/|cairn-replies)' | tr '\n' ' ')"
  fi
}

# run_case LABEL OP QUORUM: wrk then cairn bench, over the live nodes.
run_case() {
  local label=$1 op=$2 q=$3 query script mix urls=() nodes="" i threads conns out json
  if [[ $op == put ]]; then query="w=$q"; script=put.lua; mix=put=100
  else query="r=$q"; script=get.lua; mix=get=100; fi
  for i in "${live[@]}"; do
    urls+=(--url "$(http_url "$i")")
    nodes+="${nodes:+,}127.0.0.1:$((HTTP_BASE + i))"
  done
  out="$workdir/out.txt"
  echo
  probe "$op" "$q"
  if [[ " $CLIENTS " == *" wrk "* ]]; then
    threads=${WRK_THREADS:-${#live[@]}}
    conns=$(( CONNECTIONS / threads * threads ))
    # wrk DURATION: the whole command; options before the URL, the Lua script's arguments after --.
    wrk_run() {
      env NODES="$nodes" QUERY="$query" wrk -t"$threads" -c"$conns" -d"$1" --latency -s "$here/wrk/$script" \
        "$(http_url "${live[0]}")" -- "$KEYS" "$VALUE_SIZE"
    }
    echo
    echo "## wrk $label ($op $query, value_size=$VALUE_SIZE, nodes ${live[*]})"
    echo "## command: NODES=$nodes QUERY=$query wrk -t$threads -c$conns -d$DURATION --latency -s bench/wrk/$script $(http_url "${live[0]}") -- $KEYS $VALUE_SIZE"
    wrk_run "$WARMUP" >/dev/null
    load_note
    with_spread wrk_run "$DURATION" | tee "$out" || status=1
    summary+=("$(awk -v l="$label" '/^RESULT/ {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        err = v["errors_connect"] + v["errors_read"] + v["errors_write"] + v["errors_status"] + v["errors_timeout"]
        printf "%-22s %-12s %10.0f %8.3f %8.3f %8.3f %8d", l, "wrk", v["rps"], v["p50_ms"], v["p99_ms"], v["p99.9_ms"], err }' "$out")")
  fi
  if [[ " $CLIENTS " == *" bench "* ]]; then
    json="$json_dir/$(echo "$label" | tr -d ',=' | tr ' A-Z' '-a-z').json"
    local args=("${urls[@]}" --connections "$CONNECTIONS" --threads "$BENCH_THREADS" --keys "$KEYS"
      --value-size "$VALUE_SIZE" --mix "$mix" --query "$query" --warmup "$WARMUP" --duration "$DURATION" --json "$json")
    echo
    echo "## cairn bench $label ($op $query, value_size=$VALUE_SIZE, nodes ${live[*]})"
    echo "## command: ${bench_cmd[*]} ${args[*]}"
    load_note
    with_spread "${bench_cmd[@]}" "${args[@]}" | tee "$out" || status=1
    summary+=("$(awk -v l="$label" '$1 == "total" {
        printf "%-22s %-12s %10.0f %8.3f %8.3f %8.3f %8d", l, "cairn bench", $3, $7, $9, $10, $4 + $5 }' "$out")")
  fi
}

print_summary() {
  echo
  echo "## summary (ops/s, latency in ms; errors: wrk connect+read+write+status+timeout, cairn bench errors+shed)"
  printf '%-22s %-12s %10s %8s %8s %8s %8s\n' run client ops/s p50 p99 p99.9 errors
  printf '%s\n' "${summary[@]}"
  summary=()
}

header() {
  machine_info
  echo "# $("$JAVA" -jar "$CAIRN_JAR" --version) ($CAIRN_JAR, $("$JAVA" -version 2>&1 | head -1))"
  echo "# $(wrk --version 2>&1 | head -1)"
  echo "# cluster: 3 nodes on this machine, N=3, zones zone-a/b/c, default durability (sync), heap $HEAP each${NODE_SETS:+, --set $NODE_SETS}"
  local i cmd
  for i in "${ids[@]}"; do
    node_cmd "$i"
    echo "# node $i: ${cmd[*]//$workdir/<tmp>}"
  done
  echo "# keys=$KEYS value_size=$VALUE_SIZE connections=$CONNECTIONS wrk_threads=${WRK_THREADS:-one per live node} bench_threads=$BENCH_THREADS duration=$DURATION warmup=$WARMUP"
  echo "# JSON reports: $json_dir"
}

status=0

all_up() {
  header
  echo "# phase: all three nodes up"
  local started=$SECONDS
  cairn_certs "$workdir" "${ids[@]}"
  for i in "${ids[@]}"; do start_node "$i"; done
  if ! wait_until 120 all_alive; then
    for i in "${ids[@]}"; do echo "--- node$i log"; tail -20 "$workdir/node$i.log"; done
    return 1
  fi
  echo "## cluster formed in $((SECONDS - started)) s: node1 sees $(cluster_view 1)"
  live=("${ids[@]}")
  local urls=() i q
  for i in "${live[@]}"; do urls+=(--url "$(http_url "$i")"); done
  echo
  echo "## prefill: ${bench_cmd[*]} ${urls[*]} --connections $CONNECTIONS --threads $BENCH_THREADS --keys $KEYS --value-size $VALUE_SIZE --prefill --mix put=1 --warmup 0s --duration 1s"
  "${bench_cmd[@]}" "${urls[@]}" --connections "$CONNECTIONS" --threads "$BENCH_THREADS" --keys "$KEYS" \
    --value-size "$VALUE_SIZE" --prefill --mix put=1 --warmup 0s --duration 1s | grep -E '^prefill done|^total' \
    || { echo "prefill failed" >&2; return 1; }
  for q in $PUT_QUORUMS; do run_case "3 up, PUT W=$q" put "$q"; done
  for q in $GET_QUORUMS; do run_case "3 up, GET R=$q" get "$q"; done
  echo
  echo "## node1 /admin/cluster stats: $(curl -s "$(http_url 1)/admin/cluster" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"])')"
  print_summary
}

one_down() {
  header
  echo "# phase: node $DOWN_NODE killed with kill -9 (after the all-up phase, same data)"
  echo
  echo "## kill -9 node $DOWN_NODE (pid ${node_pid[$DOWN_NODE]})"
  kill -KILL "${node_pid[$DOWN_NODE]}"
  wait "${node_pid[$DOWN_NODE]}" 2>/dev/null || true
  unset "node_pid[$DOWN_NODE]"
  local killed=$SECONDS i spec
  wait_until 60 seen_down "$DOWN_NODE" || return 1
  echo "## the other nodes saw it down after $((SECONDS - killed)) s"
  live=()
  for i in "${ids[@]}"; do
    [[ $i == "$DOWN_NODE" ]] && continue
    live+=("$i")
    echo "## node$i sees: $(cluster_view "$i")"
  done
  for spec in $DOWN_QUORUMS; do
    if [[ ${spec%%:*} == put ]]; then run_case "1 down, PUT W=${spec#*:}" put "${spec#*:}"
    else run_case "1 down, GET R=${spec#*:}" get "${spec#*:}"; fi
  done
  echo
  echo "## node${live[0]} /admin/cluster stats: $(curl -s "$(http_url "${live[0]}")/admin/cluster" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"])')"
  print_summary
}

# Not a pipeline into tee: the phases start and kill nodes, which must stay visible to cleanup.
exec 3>&1
all_up > >(tee "$base-all-up.txt" >&3) 2>&1 || status=1
if (( status == 0 )); then
  one_down > >(tee "$base-one-down.txt" >&3) 2>&1 || status=1
fi
sleep 1  # let tee finish writing
echo "results: $(ls -d "$base"-*.txt "$json_dir" 2>/dev/null | tr '\n' ' ')" >&3
exit "$status"
