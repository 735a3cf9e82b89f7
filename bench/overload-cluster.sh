#!/usr/bin/env bash
# Overload and abuse against a three-node Cairn cluster (N=3, issue: hardening): the plan of
# overload.sh (quiet clients, the open-loop curve, the quiet clients under each abuse mode, the
# quiet clients again), with the well-behaved load spread over all three nodes and the abusive
# client aimed at ABUSE_NODES (default: node 1 alone, so one abused node's effect on the whole
# cluster shows; "1 2 3" spreads it).
#
#   bench/overload-cluster.sh                      # ~6 min at the defaults
#   DURATION=5s CURVE_DURATION=5s TAG=-short bench/overload-cluster.sh
#
# Three `cairn start` processes on 127.0.0.1 (zones zone-a/b/c, free ports, fresh data directories
# removed on exit, heap HEAP each), default quorums (W=2, R=2 of N=3). All three nodes, the bench
# and the abusive client share the machine's cores.
#
# Output: RESULTS_DIR/cairn-<version>-cluster3-overload<TAG>.txt and ...-json/ (as overload.sh).
# Settings (environment): as overload.sh (see there and overload-lib.sh), plus ABUSE_NODES ("1").
# Heap and RSS in the summary are the largest of any node; the per-second samples have each node.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
source "$here/lib.sh"
source "$here/overload-lib.sh"

HEAP=${HEAP:-512m}
NODE_SETS=${NODE_SETS:-}
ABUSE_NODES=${ABUSE_NODES:-1}
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
base="$RESULTS_DIR/cairn-$version-cluster3-overload$TAG"
json_dir="$base-json"
mkdir -p "$json_dir"
cairn=("$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -jar "$CAIRN_JAR")

workdir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-overload-cluster.XXXXXX")
declare -a node_urls=() node_pids=() node_logs=()
cleanup() {
  stop_sampler
  [[ -n "$abuser_pid" ]] && stop_pid "$abuser_pid"
  local i
  for i in "${!node_pids[@]}"; do stop_pid "${node_pids[$i]}"; done
  for i in "${!node_pids[@]}"; do wait "${node_pids[$i]}" 2>/dev/null || true; done
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ids=(1 2 3)
zones=(zone-a zone-b zone-c)
declare -a http_ports=() internode_ports=()
members=""
for i in "${ids[@]}"; do
  http_ports[$i]=$(free_port)
  internode_ports[$i]=$(free_port)
  members+="${members:+,}$i/${zones[$((i - 1))]}/127.0.0.1:${http_ports[$i]}/127.0.0.1:${internode_ports[$i]}"
done

node_cmd() {  # node_cmd I: sets the array cmd to node I's command line
  local i=$1 s
  cmd=("$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx"$HEAP"
    -jar "$CAIRN_JAR" start --node-id "$i" --http-port "${http_ports[$i]}" --data-dir "$workdir/node$i"
    --set "cluster.members=$members")
  for s in $NODE_SETS; do cmd+=(--set "$s"); done
}

cairn_certs "$workdir" "${ids[@]}"
for i in "${ids[@]}"; do
  node_cmd "$i"
  "${cmd[@]}" >"$workdir/node$i.log" 2>&1 &
  node_pids[$i]=$!
  node_urls[$i]="http://127.0.0.1:${http_ports[$i]}"
  node_logs[$i]="$workdir/node$i.log"
done
abuse_nodes=$ABUSE_NODES

all_alive() {
  local i view
  for i in "${ids[@]}"; do
    view=$(curl -sf --max-time 2 "${node_urls[$i]}/admin/cluster" | python3 -c '
import json, sys
print(" ".join("%d:%s" % (m["id"], str(m["alive"]).lower()) for m in json.load(sys.stdin)["members"]))') || return 1
    [[ "$view" == "1:true 2:true 3:true" ]] || return 1
  done
}
if ! wait_until 120 all_alive; then
  for i in "${ids[@]}"; do echo "--- node$i log"; tail -20 "$workdir/node$i.log"; done >&2
  exit 1
fi

describe_servers() {
  local i cmd
  echo "# cluster: 3 nodes on this machine, N=3, zones zone-a/b/c, default quorums and durability (sync), heap $HEAP each${NODE_SETS:+, --set $NODE_SETS}"
  for i in "${ids[@]}"; do
    node_cmd "$i"
    echo "# node $i: ${cmd[*]//$workdir/<tmp>}"
  done
}

status=0
exec 3>&1
run_plan > >(tee "$base.txt" >&3) 2>&1 || status=1
sleep 1  # let tee finish writing
echo "results: $base.txt $json_dir" >&3
exit "$status"
