#!/usr/bin/env bash
# Compare-and-swap on three nodes: Cairn (per-key Paxos, If-Match) beside etcd (its transaction
# API: compare mod_revision, then put), driven the same way by wrk with one connection per thread
# (each thread is one client that remembers the version of the keys it swaps), the threads spread
# over the three nodes (NODES, see wrk/common.lua). Cases, each on both systems:
#   uncontended  UNCONTENDED_CLIENTS (16) clients, each swapping its own KEYS (50) keys in turn
#   contended    CONTENDED_CLIENTS (32) clients swapping one key; a loser learns the current
#                version from the refusal and tries again
#   serial read  UNCONTENDED_CLIENTS clients reading their keys linearizably (Cairn
#                ?consistency=serial, etcd a linearizable range)
# Each system first runs the uncontended case for PREWARM (60s, unrecorded: the JVMs' JIT compilers
# are still busy for about a minute after a start, taking a core from three nodes on two cores),
# then each case runs WARMUP (5s, unrecorded) then DURATION (20s). Fresh servers and data
# directories for each system; everything on 127.0.0.1.
#
#   bench/cas.sh
#   DURATION=5s WARMUP=2s TAG=-short bench/cas.sh
#
# Output: RESULTS_DIR/cas-<date><TAG>.txt with the exact commands, wrk's output and a summary. Beside
# each measured run, the servers' CPU (all members together, in cores, and per answer:
# cpu_ms_per_op), wrk's, and anything else's: on a machine where the servers saturate the cores,
# the CPU per answer is the steadier figure to compare (throughput swings more between runs).
# Settings (environment): the above, HTTP_BASE (7500) / INTERNODE_BASE (7510) for Cairn,
# CLIENT_BASE (23890) / PEER_BASE (23900) for etcd, NODE_SETS (extra Cairn settings), HEAP (1g),
# NAMESPACE (Cairn's keys in this namespace, created with NAMESPACE_CONSISTENCY, default serial; the
# members then get metadata addresses from METADATA_BASE, 7520, for the metadata log namespaces
# live in), ETCD_PEER_TLS (1: etcd's members talk to each other over mutual TLS with certificates
# from the same kind of CA Cairn's nodes use, as Cairn's always do; default 0, plain peers), JAVA_OPTS (extra JVM flags for Cairn, e.g. a perf map for profiling), CAIRN_JAR, JAVA, ETCD, RESULTS_DIR, TAG, SYSTEMS ("cairn etcd": which to run). Needs wrk, etcd-server, python3, curl, a JDK 21+.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
source "$here/lib.sh"

DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-5s}
PREWARM=${PREWARM:-60s}
KEYS=${KEYS:-50}
UNCONTENDED_CLIENTS=${UNCONTENDED_CLIENTS:-16}
CONTENDED_CLIENTS=${CONTENDED_CLIENTS:-32}
HTTP_BASE=${HTTP_BASE:-7500}
INTERNODE_BASE=${INTERNODE_BASE:-7510}
CLIENT_BASE=${CLIENT_BASE:-23890}
PEER_BASE=${PEER_BASE:-23900}
NODE_SETS=${NODE_SETS:-}
HEAP=${HEAP:-1g}
JAVA_OPTS=${JAVA_OPTS:-}
NAMESPACE=${NAMESPACE:-}
NAMESPACE_CONSISTENCY=${NAMESPACE_CONSISTENCY:-serial}
METADATA_BASE=${METADATA_BASE:-7520}
ETCD=${ETCD:-etcd}
ETCD_PEER_TLS=${ETCD_PEER_TLS:-0}
CAIRN_JAR=${CAIRN_JAR:-$repo/cairn-cli/target/cairn.jar}
JAVA=$(java_21 "${JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/}java}")
RESULTS_DIR=${RESULTS_DIR:-$here/results}
TAG=${TAG:-}
SYSTEMS=${SYSTEMS:-cairn etcd}
LOCK_FILE=${LOCK_FILE:-}
IDLE_BUSY=${IDLE_BUSY:-10}
IDLE_WAIT=${IDLE_WAIT:-120}
[[ -f "$CAIRN_JAR" ]] || { echo "no $CAIRN_JAR: ./mvnw -q -pl cairn-cli -am package -DskipTests" >&2; exit 2; }
mkdir -p "$RESULTS_DIR"
out="$RESULTS_DIR/cas-$(date -u +%Y%m%d-%H%M)$TAG.txt"

ids=(1 2 3)
workdir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-cas.XXXXXX")
declare -A pids=() node_pid=()
stop_all() {
  local i
  for i in "${!pids[@]}"; do stop_pid "${pids[$i]}"; done
  for i in "${!pids[@]}"; do wait "${pids[$i]}" 2>/dev/null || true; done
  pids=()
}

summary=()
# prewarm URL NODES SCRIPT: the uncontended case, unrecorded, for PREWARM.
prewarm() {
  echo
  echo "## prewarm $PREWARM: NODES=$2 MODE=uncontended wrk -t$UNCONTENDED_CLIENTS -c$UNCONTENDED_CLIENTS -d$PREWARM -s $here/wrk/$3 $1 -- $KEYS 100"
  env NODES="$2" MODE=uncontended wrk -t"$UNCONTENDED_CLIENTS" -c"$UNCONTENDED_CLIENTS" -d"$PREWARM" -s "$here/wrk/$3" "$1" -- "$KEYS" 100 >/dev/null
}
# run_case SYSTEM CASE URL NODES SCRIPT THREADS [ENV...]
run_case() {
  local system=$1 name=$2 url=$3 nodes=$4 script=$5 threads=$6
  shift 6
  local head=(env "$@" NODES="$nodes" wrk -t"$threads" -c"$threads" --latency)
  local tail=(-s "$here/wrk/$script" "$url" -- "$KEYS" 100)
  echo
  echo "## $system, $name: ${head[*]} -d$DURATION ${tail[*]}"
  wait_idle
  "${head[@]}" -d"$WARMUP" "${tail[@]}" >/dev/null
  local result
  node_pid=()
  local k
  for k in "${!pids[@]}"; do node_pid[$k]=${pids[$k]}; done
  cpu_mark
  result=$("${head[@]}" -d"$DURATION" "${tail[@]}")
  local cpu
  cpu=$(cpu_report "the measured run")
  echo "$result"
  echo "$cpu"
  local r c per_op
  r=$(grep '^RESULT' <<<"$result")
  c=$(grep '^CAS' <<<"$result" || true)
  # The servers' CPU per answer, all members together (cpu_report ran in a subshell: its figures
  # are read back from what it printed).
  per_op=$(awk -v r="$r" -v cpu="$cpu" 'BEGIN {
    n = split(r, f, " "); for (i = 1; i <= n; i++) if (f[i] ~ /^requests=/) { sub(/^requests=/, "", f[i]); req = f[i] }
    if (match(cpu, /our nodes [0-9.]+/)) cores = substr(cpu, RSTART + 10, RLENGTH - 10)
    if (match(cpu, /, [0-9.]+ s\)/)) wall = substr(cpu, RSTART + 2, RLENGTH - 4)
    if (req > 0 && wall > 0) printf "cores=%s cpu_ms_per_op=%.3f", cores, cores * wall * 1000 / req; else printf "cores=%s cpu_ms_per_op=?", cores }')
  summary+=("$(printf '%-6s %-13s %s| %s| %s' "$system" "$name" "$(awk '{for (i = 2; i <= NF; i++) if ($i ~ /^(rps|p50_ms|p99_ms|p99.9_ms)=/) printf "%s ", $i}' <<<"$r")" \
    "$per_op " "$(awk '{for (i = 2; i <= NF; i++) if ($i ~ /^(won_per_s|lost_412|busy_503|unknown_504|other)=/) printf "%s ", $i}' <<<"$c")")")
}

cairn_phase() {
  local members="" nodes="" i
  for i in "${ids[@]}"; do
    members+="${members:+,}$i/zone-$i/127.0.0.1:$((HTTP_BASE + i))/127.0.0.1:$((INTERNODE_BASE + i))"
    nodes+="${nodes:+,}127.0.0.1:$((HTTP_BASE + i))"
    require_free_port $((HTTP_BASE + i)) HTTP_BASE
    require_free_port $((INTERNODE_BASE + i)) INTERNODE_BASE
    if [[ -n "$NAMESPACE" ]]; then
      members+="/127.0.0.1:$((METADATA_BASE + i))"
      require_free_port $((METADATA_BASE + i)) METADATA_BASE
    fi
  done
  cairn_certs "$workdir" "${ids[@]}"
  for i in "${ids[@]}"; do
    local cmd=("$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx"$HEAP" $JAVA_OPTS
      -jar "$CAIRN_JAR" start --node-id "$i" --http-port "$((HTTP_BASE + i))" --data-dir "$workdir/node$i"
      --set "cluster.members=$members")
    local s
    for s in $NODE_SETS; do cmd+=(--set "$s"); done
    [[ $i == 1 ]] && echo "# cairn node command: ${cmd[*]}"
    "${cmd[@]}" >"$workdir/node$i.log" 2>&1 &
    pids[c$i]=$!
  done
  ready() { local j; for j in "${ids[@]}"; do curl -sf --max-time 2 "http://127.0.0.1:$((HTTP_BASE + j))/ready" >/dev/null || return 1; done; }
  wait_until 120 ready || { tail -20 "$workdir"/node*.log; return 1; }
  local url="http://127.0.0.1:$((HTTP_BASE + 1))"
  if [[ -n "$NAMESPACE" ]]; then
    created() { curl -sf --max-time 10 -X PUT "$url/admin/namespaces/$NAMESPACE" -d "{\"consistency\": \"$NAMESPACE_CONSISTENCY\"}" >/dev/null; }
    wait_until 60 created || { echo "could not create namespace $NAMESPACE" >&2; return 1; }
    echo "# namespace $NAMESPACE ($NAMESPACE_CONSISTENCY): $(curl -s "$url/admin/namespaces/$NAMESPACE")"
    export KV_PREFIX="/ns/$NAMESPACE/kv/"
  fi
  prewarm "$url" "$nodes" cas.lua
  run_case cairn uncontended "$url" "$nodes" cas.lua "$UNCONTENDED_CLIENTS" MODE=uncontended
  run_case cairn contended "$url" "$nodes" cas.lua "$CONTENDED_CLIENTS" MODE=contended
  run_case cairn serial-read "$url" "$nodes" cas.lua "$UNCONTENDED_CLIENTS" SERIAL_READS=1
  echo
  echo "## cairn paxos counters (node 1): $(curl -s "$url/metrics" | grep -E '^cairn_paxos_' | tr '\n' ' ')"
  unset KV_PREFIX
  stop_all
}

etcd_phase() {
  local initial="" nodes="" i peer=http tls=()
  if [[ "$ETCD_PEER_TLS" == 1 ]]; then
    peer=https
    NO_TOKEN=1 cairn_certs "$workdir/etcd-tls" "${ids[@]}" # (etcd takes no token)
  fi
  for i in "${ids[@]}"; do
    initial+="${initial:+,}m$i=$peer://127.0.0.1:$((PEER_BASE + i))"
    nodes+="${nodes:+,}127.0.0.1:$((CLIENT_BASE + i))"
    require_free_port $((CLIENT_BASE + i)) CLIENT_BASE
    require_free_port $((PEER_BASE + i)) PEER_BASE
  done
  for i in "${ids[@]}"; do
    [[ "$peer" == https ]] && tls=(--peer-client-cert-auth --peer-trusted-ca-file "$workdir/etcd-tls/ca/ca.crt"
      --peer-cert-file "$workdir/etcd-tls/node$i/tls/node.crt" --peer-key-file "$workdir/etcd-tls/node$i/tls/node.key")
    local cmd=("$ETCD" --name "m$i" --data-dir "$workdir/etcd-m$i"
      --listen-client-urls "http://127.0.0.1:$((CLIENT_BASE + i))" --advertise-client-urls "http://127.0.0.1:$((CLIENT_BASE + i))"
      --listen-peer-urls "$peer://127.0.0.1:$((PEER_BASE + i))" --initial-advertise-peer-urls "$peer://127.0.0.1:$((PEER_BASE + i))"
      "${tls[@]}"
      --initial-cluster "$initial" --initial-cluster-state new --initial-cluster-token cas-bench
      --logger zap --log-outputs "$workdir/etcd-m$i.log")
    [[ $i == 1 ]] && echo "# etcd member command: ${cmd[*]}"
    "${cmd[@]}" >"$workdir/etcd-m$i.out" 2>&1 &
    pids[e$i]=$!
  done
  healthy() { local j; for j in "${ids[@]}"; do curl -sf --max-time 2 "http://127.0.0.1:$((CLIENT_BASE + j))/health" | grep -q '"health":"true"' || return 1; done; }
  wait_until 60 healthy || { tail -5 "$workdir"/etcd-m*.log; return 1; }
  local url="http://127.0.0.1:$((CLIENT_BASE + 1))"
  prewarm "$url" "$nodes" etcd-cas.lua
  run_case etcd uncontended "$url" "$nodes" etcd-cas.lua "$UNCONTENDED_CLIENTS" MODE=uncontended
  run_case etcd contended "$url" "$nodes" etcd-cas.lua "$CONTENDED_CLIENTS" MODE=contended
  run_case etcd serial-read "$url" "$nodes" etcd-cas.lua "$UNCONTENDED_CLIENTS" SERIAL_READS=1
  stop_all
}

{
  # In this group's subshell (its output goes through tee), where the servers' pids live and
  # wrk's CPU is counted when it ends.
  CHILDREN_OF=$BASHPID
  trap 'stop_all; rm -rf "$workdir"' EXIT
  trap 'exit 130' INT TERM
  echo "# bench/cas.sh"
  machine_info
  echo "# cairn $("$JAVA" -jar "$CAIRN_JAR" --version | awk '{print $NF}'), $("$ETCD" --version | head -1)"
  echo "# DURATION=$DURATION WARMUP=$WARMUP PREWARM=$PREWARM KEYS=$KEYS (per client) UNCONTENDED_CLIENTS=$UNCONTENDED_CLIENTS CONTENDED_CLIENTS=$CONTENDED_CLIENTS NODE_SETS=$NODE_SETS ETCD_PEER_TLS=$ETCD_PEER_TLS"
  lock
  [[ " $SYSTEMS " == *" cairn "* ]] && cairn_phase
  [[ " $SYSTEMS " == *" etcd "* ]] && etcd_phase
  unlock
  echo
  echo "# summary (ops/s counts every answer; won_per_s the swaps that took effect)"
  printf '%s\n' "${summary[@]}"
} 2>&1 | tee "$out"
