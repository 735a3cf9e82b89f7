#!/usr/bin/env bash
# What changing the members of an elastic cluster costs, on this machine (loopback, free ports,
# fresh data directories removed on exit). Every cluster: three nodes started together (N=3,
# zones zone-a/b/c, each member with a metadata address, so the cluster is elastic; HEAP each),
# a fourth node (id 4, zone JOIN_ZONE) started later with `--join` through node JOIN_VIA. Four
# parts, each on its own fresh cluster:
#
#   1. Join time and streaming rate: P1_KEYS keys of P1_VALUE_SIZE B loaded (1 GiB by default),
#      then node 4 started with --join. Reports the wall time from node 4's start to its
#      registration (node 1's /admin/membership lists it) and to the change being done
#      everywhere (every member's /admin/membership, node 4's included: "change":null, every
#      member not removed "normal"), node 4's bytesStreamed / recordsStreamed / streamsCompleted
#      (GET /admin/rebalance, thisNode) at the end, and a sample of node 4's /admin/rebalance every
#      second (the bytes streamed series, as MiB/s); the mean rate over the streaming stretch and
#      the peak second. Once per P1_THROTTLES entry: "default" (moves.maxBytesPerSecond not set:
#      32 MiB/s), "unlimited" (moves.maxBytesPerSecond=1024GiB, the largest value it takes, on every
#      node) or a size (e.g. 64MiB, on every node; Cairn's units stop at GiB, and this build does not
#      reject a malformed moves.* value but silently uses the minimum, 1 KiB/s: check the spelling).
#   2. Client latency during a rebalance vs quiet: P2_KEYS keys loaded; an unrecorded
#      P2_JIT_WARMUP run of the load, then `cairn bench --mix P2_MIX` (open loop at P2_RATE ops/s
#      over P2_CONNECTIONS connections to nodes 1-3, the cluster's default quorums W=2/R=2 unless
#      P2_QUERY, P2_VALUE_SIZE B values, P2_WARMUP unrecorded first) for P2_DURATION quiet; then
#      the same run again with node 4 joining: P2_START=registered (the default) starts node 4 and
#      the run as soon as
#      node 1 lists node 4 (its JVM takes 5-10 s to start and register, which would otherwise be
#      part of the run); P2_START=process starts both at the same moment. Reports ops/s,
#      p50/p99/p99.9/max, errors and shed, the open loop's delayed/unsent requests for both, node
#      4's registration and when the change was done (and whether that was within the run), with
#      the bench's per-second lines and a per-second sample of the change.
#   3. Re-replicating a lost node: node 4 joined to an empty three-node cluster (waited until
#      done), P3_KEYS keys of P3_VALUE_SIZE B loaded through all four, then node 4 killed (kill -9)
#      and at once `POST /admin/membership/remove?node=4&force=true` (force: node 1 still counts it up) on node 1. Reports the time from the
#      POST to the change being done on nodes 1-3, each survivor's bytes/records streamed
#      (differences of its /admin/rebalance thisNode from just before the POST), sampled every
#      second, and P3_CHECKS keys read back at the default quorum through node 1.
#   4. Metadata change latency: P4_KEYS keys of 1 KiB loaded (only so that the join below has
#      something to move), node 4 started with --join and moves.maxBytesPerSecond=P4_NODE4_RATE
#      so the plan keeps running; then P4_CHANGES changes alternating `POST /admin/rebalance/pause`
#      and `/resume` on node P4_VIA (each is one entry of the metadata log and a new epoch), P4_GAP
#      s apart. For each: the time from sending the POST to its answer and to every member (node 4
#      included) answering GET /admin/membership with the change applied (its change.paused
#      flipped: the answer's "epoch" cannot be used, as this build answers with the asked node's
#      view, epoch included, which may not have applied the change yet; such stale answers are
#      counted), each member polled every P4_POLL_MS ms over a keep-alive connection (so the
#      resolution is the poll interval plus one request). P4_WARMUP_CHANGES changes first are left
#      out of the figures. Reports min/median/p90/max.
#
#   bench/elastic.sh                                       # all four parts, ~30 min at the defaults (estimate)
#   PARTS="1 3" bench/elastic.sh                           # some parts only
#   LOCK_FILE=/work/machine.lock bench/elastic.sh          # each part's run under flock(1) on it
#   P1_KEYS=20000 P2_KEYS=20000 P2_JIT_WARMUP=3s P2_DURATION=10s P3_KEYS=20000 P4_CHANGES=5 \
#     TAG=-short bench/elastic.sh                          # a quick check (~8 min)
#
# Keys are loaded (LOADER=batch, the default) through POST /kv/_batch, LOAD_BATCH puts per request
# over LOAD_CONNECTIONS connections, keys bench-0 .. bench-(KEYS-1) as cairn bench names them
# (failed operations are sent again up to LOAD_RETRIES times), or (LOADER=bench) with
# `cairn bench --prefill` (64 connections), about four times slower here. Before each part's
# cluster starts, and before each measured stretch of parts 1 and 3 (after the load: the nodes may
# still be flushing or compacting), the script waits until the cores are idle (IDLE_BUSY %, up to
# IDLE_WAIT s) and prints lib.sh's load_note line; over each measured stretch it prints the CPU
# taken by the nodes, by cairn bench and the script's tools, by kernel interrupts and by anything
# else (above 0.15 cores: disturbed, flagged in the summaries).
#
# Output: OUT_DIR (default bench/results/elastic-<yyyymmdd><TAG>)/elastic<TAG>.txt: the machine,
# the exact commands and node command lines, what each step saw, and a summary per part at the
# end; OUT_DIR/json<TAG>/: /admin/membership and /admin/rebalance snapshots, the per-second samples,
# each watcher's JSON result, cairn bench JSON reports and output, part 4's per-change lines.
#
# Settings (environment): PARTS ("1 2 3 4"), HEAP (1g per node), JOIN_ZONE (zone-d: a fourth
# zone, so the partitions spread over all four nodes, as docs/operations.md's estimate of the
# bytes moved assumes; zone-a puts node 4 beside node 1, which then shares zone-a's replicas with
# it), JOIN_VIA (1), NODE_SETS (extra k=v settings for every node, space-separated),
#   P1_THROTTLES ("default unlimited"), P1_KEYS (1048576), P1_VALUE_SIZE (1024), P1_TIMEOUT (3600 s
#   per join),
#   P2_KEYS (200000), P2_VALUE_SIZE (1024), P2_MIX (get=50,put=50), P2_RATE (200 ops/s; 0 = closed
#   loop), P2_CONNECTIONS (64 open loop; use ~16 for a closed loop), P2_QUERY (empty: default
#   quorums), P2_START (registered or process), P2_JIT_WARMUP (10s; 0 skips it), P2_MOVE_WARMUP (0; 1:
#   before the JIT warm-up, a fifth node joins and is decommissioned again under the load, unrecorded,
#   so that nodes 1-3 run the join with the code of a change compiled, as nodes up for a while
#   have it), P2_HOG (empty; CORES: after the quiet run, a control run, quiet again beside bench/hog.py
#   taking CORES cores in bursts under node 4's NODE4_NICE/NODE4_SCHED: what a fifth busy process on
#   the shared cores costs the p99 without any join; set it to node 4's CPU in the join run),
#   P2_HOG_WRITE (empty; MiB/s: the hog also writes that much to the nodes' disk in fsynced 1 MiB
#   blocks, as node 4 storing the streams does; set it to the join's streaming rate),
#   P2_WARMUP (5s:
#   each run's cairn bench --warmup, a fresh client ramping up), P2_DURATION (30s), P2_TIMEOUT
#   (1800 s: how long to wait after the run for the change to finish),
#   P3_KEYS (1048576), P3_VALUE_SIZE (1024), P3_TIMEOUT (3600 s), P3_CHECKS (20),
#   P4_KEYS (20000), P4_CHANGES (20), P4_WARMUP_CHANGES (2: made first, left out of the figures; the
#   first change took 0.5-0.8 s in trials, the next ones ~0.1 s), P4_GAP (0.5 s), P4_POLL_MS (5),
#   P4_NODE4_RATE (64KiB), P4_VIA (1),
#   BENCH_THREADS (2), LOADER (batch), LOAD_BATCH (500), LOAD_CONNECTIONS (6), LOAD_RETRIES (5),
#   CAIRN_JAR (cairn-cli/target/cairn.jar), JAVA, OUT_DIR, TAG, LOCK_FILE (empty: no locking; else
#   every part's run holds flock on it), IDLE_BUSY (10 %), IDLE_WAIT (600 s), STALL_TIMEOUT (300 s:
#   a change whose epoch and bytes streamed did not move for that long is reported stalled and the
#   part fails, instead of waiting for its timeout), KEEP_LOGS (1: copy node logs into OUT_DIR/logs), NODE4_NICE (empty; a nice(1) level for node 4, whose
#   CPU then yields to the serving nodes: the nearest this machine comes to node 4 on cores of its own),
#   NODE4_SCHED (empty; "idle" runs node 4 under SCHED_IDLE, chrt(1): its threads run only on a core
#   no other thread wants, and yield it at once to one that wakes),
#   NODE4_JAVA_OPTS (empty; extra JVM flags for node 4 only, e.g. -XX:TieredStopAtLevel=1 to see what its JIT costs).
# Needs: curl, jq, python3, a JDK 21+, a built cairn-cli/target/cairn.jar.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
source "$here/lib.sh"

PARTS=${PARTS:-"1 2 3 4"}
HEAP=${HEAP:-1g}
JOIN_ZONE=${JOIN_ZONE:-zone-d}
JOIN_VIA=${JOIN_VIA:-1}
NODE_SETS=${NODE_SETS:-}
P1_THROTTLES=${P1_THROTTLES:-"default unlimited"}
P1_KEYS=${P1_KEYS:-1048576}
P1_VALUE_SIZE=${P1_VALUE_SIZE:-1024}
P1_TIMEOUT=${P1_TIMEOUT:-3600}
P2_KEYS=${P2_KEYS:-200000}
P2_VALUE_SIZE=${P2_VALUE_SIZE:-1024}
P2_MIX=${P2_MIX:-get=50,put=50}
P2_RATE=${P2_RATE:-200}
P2_CONNECTIONS=${P2_CONNECTIONS:-64}
P2_QUERY=${P2_QUERY:-}
P2_START=${P2_START:-registered}
P2_JIT_WARMUP=${P2_JIT_WARMUP:-10s}
P2_MOVE_WARMUP=${P2_MOVE_WARMUP:-0}
P2_HOG=${P2_HOG:-}
P2_HOG_WRITE=${P2_HOG_WRITE:-}
P2_WARMUP=${P2_WARMUP:-5s}
P2_DURATION=${P2_DURATION:-30s}
P2_TIMEOUT=${P2_TIMEOUT:-1800}
P3_KEYS=${P3_KEYS:-1048576}
P3_VALUE_SIZE=${P3_VALUE_SIZE:-1024}
P3_TIMEOUT=${P3_TIMEOUT:-3600}
P3_CHECKS=${P3_CHECKS:-20}
P4_KEYS=${P4_KEYS:-20000}
P4_CHANGES=${P4_CHANGES:-20}
P4_GAP=${P4_GAP:-0.5}
P4_POLL_MS=${P4_POLL_MS:-5}
P4_NODE4_RATE=${P4_NODE4_RATE:-64KiB}
P4_VIA=${P4_VIA:-1}
P4_WARMUP_CHANGES=${P4_WARMUP_CHANGES:-2}
BENCH_THREADS=${BENCH_THREADS:-2}
LOADER=${LOADER:-batch}
LOAD_BATCH=${LOAD_BATCH:-500}
LOAD_CONNECTIONS=${LOAD_CONNECTIONS:-6}
export LOAD_RETRIES=${LOAD_RETRIES:-5}
LOCK_FILE=${LOCK_FILE:-}
IDLE_BUSY=${IDLE_BUSY:-10}
IDLE_WAIT=${IDLE_WAIT:-600}
KEEP_LOGS=${KEEP_LOGS:-0}
export STALL_TIMEOUT=${STALL_TIMEOUT:-300}
TAG=${TAG:-}
CAIRN_JAR=${CAIRN_JAR:-$repo/cairn-cli/target/cairn.jar}
JAVA=${JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/}java}
# Cairn needs Java 21+; the machine's default java may be older (Debian 12: 17).
if ! "$JAVA" -version 2>&1 | grep -Eq 'version "(2[1-9]|[3-9][0-9])'; then
  for candidate in /usr/lib/jvm/*/bin/java; do
    if "$candidate" -version 2>&1 | grep -Eq 'version "(2[1-9]|[3-9][0-9])'; then JAVA=$candidate; fi
  done
fi
OUT_DIR=${OUT_DIR:-$here/results/elastic-$(date -u +%Y%m%d)$TAG}

if [[ ! -f "$CAIRN_JAR" ]]; then
  echo "no $CAIRN_JAR: build it with ./mvnw -q -pl cairn-cli -am package -DskipTests, or set CAIRN_JAR" >&2
  exit 2
fi
for tool in curl jq python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 2; }
done
for p in $PARTS; do
  [[ $p =~ ^[1-4]$ ]] || { echo "PARTS: 1, 2, 3 or 4, got '$p'" >&2; exit 2; }
done
[[ $LOADER == batch || $LOADER == bench ]] || { echo "LOADER: batch or bench, got '$LOADER'" >&2; exit 2; }
[[ $P2_START == registered || $P2_START == process ]] || { echo "P2_START: registered or process, got '$P2_START'" >&2; exit 2; }
json_dir="$OUT_DIR/json$TAG"
mkdir -p "$json_dir"
results="$OUT_DIR/elastic$TAG.txt"

jvm_flags=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
bench_cmd=("$JAVA" "${jvm_flags[@]}" -jar "$CAIRN_JAR" bench)

# ------------------------------------------------------------------ processes, lock, cleanup

declare -A node_pid=()
helper_pids=()
tmp_dirs=()
cl_dir=""
cleanup() {
  local i d
  for i in "${helper_pids[@]}"; do kill -TERM "$i" 2>/dev/null || true; done
  for i in "${!node_pid[@]}"; do stop_pid "${node_pid[$i]}"; done
  for i in "${!node_pid[@]}"; do wait "${node_pid[$i]}" 2>/dev/null || true; done
  for d in "${tmp_dirs[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# (lock, unlock, wait_idle, the tick counters and the CPU accounting cpu_mark / cpu_report are in lib.sh)
# "other_cpu" column: anything else's cores, with a * when disturbed.
other_col() { awk -v o="$cpu_other" 'BEGIN { if (o == "?") print "?"; else printf "%s%s", o, (o > 0.15 ? "*" : "") }'; }

# guarded LABEL FUNCTION ARGS...: one part's run, under the lock; whatever happens in it, its
# servers are stopped and their data removed before the lock is released. When it fails, the end
# of every node's log goes into the results.
failed=0
guarded() {
  local label=$1 i
  shift
  lock
  machine_line
  wait_idle
  if ! "$@"; then
    echo "## $label FAILED"
    failed=1
    for i in 1 2 3 4; do
      [[ -f "$cl_dir/node$i.log" ]] || continue
      echo "## --- the last 25 lines of node $i's log"
      tail -25 "$cl_dir/node$i.log" | cut -c1-400 | sed 's/^/##   /'
    done
  fi
  cluster_stop "$label"
  unlock
}

# ------------------------------------------------------------------ one cluster at a time

declare -a http_ports=() internode_ports=() metadata_ports=()
members=""
member4=""
member5=""
cl_sets=()
node4_sets=()
zones=(- zone-a zone-b zone-c)

# cluster_init SETTING...: a fresh elastic three-node cluster's ports, data dirs and certificates
# (not started), and node 4's (its certificate too); every node gets NODE_SETS and the settings
# (k=v); node4_sets (set it after) go to node 4 only.
cluster_init() {
  local i s
  cl_dir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-elastic.XXXXXX")
  tmp_dirs+=("$cl_dir")
  cl_sets=()
  for s in $NODE_SETS; do cl_sets+=("$s"); done
  cl_sets+=("$@")
  node4_sets=()
  members=""
  for i in 1 2 3 4 5; do
    http_ports[i]=$(free_port)
    internode_ports[i]=$(free_port)
    metadata_ports[i]=$(free_port)
  done
  for i in 1 2 3; do
    members+="${members:+,}$i/${zones[i]}/127.0.0.1:${http_ports[i]}/127.0.0.1:${internode_ports[i]}/127.0.0.1:${metadata_ports[i]}"
  done
  member4="4/$JOIN_ZONE/127.0.0.1:${http_ports[4]}/127.0.0.1:${internode_ports[4]}/127.0.0.1:${metadata_ports[4]}"
  member5="5/$JOIN_ZONE/127.0.0.1:${http_ports[5]}/127.0.0.1:${internode_ports[5]}/127.0.0.1:${metadata_ports[5]}"
  cairn_certs "$cl_dir" 1 2 3 4 5
}

url() { echo "http://127.0.0.1:${http_ports[$1]}"; }

# node_cmd I: sets the array cmd to node I's command line (node 4: a joining node; node 5: one
# that joins and leaves again before part 2's runs, P2_MOVE_WARMUP).
node_cmd() {
  local i=$1 s
  local extra=()
  (( i == 4 )) && [[ -n "${NODE4_JAVA_OPTS:-}" ]] && read -r -a extra <<<"$NODE4_JAVA_OPTS"
  cmd=("$JAVA" "${jvm_flags[@]}" "${extra[@]}" -Xmx"$HEAP"
    -jar "$CAIRN_JAR" start --node-id "$i" --http-port "${http_ports[$i]}" --data-dir "$cl_dir/node$i")
  if (( i <= 3 )); then
    cmd+=(--set "cluster.members=$members")
  elif (( i == 4 )); then
    cmd+=(--set "cluster.members=$member4" --join "127.0.0.1:${http_ports[$JOIN_VIA]}")
  else
    cmd+=(--set "cluster.members=$member5" --join "127.0.0.1:${http_ports[$JOIN_VIA]}")
  fi
  for s in "${cl_sets[@]}"; do cmd+=(--set "$s"); done
  if (( i == 4 )); then
    for s in "${node4_sets[@]}"; do cmd+=(--set "$s"); done
    # NODE4_NICE: node 4 at this nice level, so its CPU (JIT compilation, storing the streams)
    # yields to the serving nodes: as close as two shared cores come to node 4 on a machine of its own.
    [[ -n "${NODE4_NICE:-}" ]] && cmd=(nice -n "$NODE4_NICE" "${cmd[@]}")
    # NODE4_SCHED=idle: node 4 under SCHED_IDLE, which runs only on a core nothing else wants and
    # gives it up at once to a thread that wakes (nice 19 still takes its slice first): closer still.
    [[ "${NODE4_SCHED:-}" == idle ]] && cmd=(chrt --idle 0 "${cmd[@]}")
  fi
}

print_cmds() {
  local i cmd
  for i in 1 2 3 4; do
    node_cmd "$i"
    echo "## node $i: ${cmd[*]//$cl_dir/<tmp>}"
  done
}

start_node() {
  local cmd
  node_cmd "$1"
  "${cmd[@]}" >>"$cl_dir/node$1.log" 2>&1 9>&- &
  node_pid[$1]=$!
}

cluster_stop() {
  local i
  for i in "${!node_pid[@]}"; do stop_pid "${node_pid[$i]}"; done
  for i in "${!node_pid[@]}"; do wait "${node_pid[$i]}" 2>/dev/null || true; done
  node_pid=()
  if [[ "$KEEP_LOGS" == 1 ]]; then
    mkdir -p "$OUT_DIR/logs"
    for i in 1 2 3 4; do
      [[ -f "$cl_dir/node$i.log" ]] && cp "$cl_dir/node$i.log" "$OUT_DIR/logs/$1-node$i.log"
    done
  fi
  rm -rf "$cl_dir"
}

get() { curl -sf --max-time 5 "$(url "$1")$2"; }
post() { curl -s --max-time 30 -X POST "$(url "$1")$2"; }

# formed: nodes 1-3 see each other alive (/admin/cluster) and know the metadata log's leader.
formed() {
  local i
  for i in 1 2 3; do
    [[ "$(get "$i" /admin/cluster | jq -r '[.members[] | "\(.id):\(.alive)"] | join(" ")')" == "1:true 2:true 3:true" ]] || return 1
    [[ "$(get "$i" /admin/membership | jq -r '.metadataGroup.leader')" =~ ^[1-9] ]] || return 1
  done
}

start_cluster() {
  local t0=$SECONDS i
  for i in 1 2 3; do start_node "$i"; done
  if ! wait_until 180 formed; then
    echo "## the cluster did not form in 180 s"
    return 1
  fi
  echo "## $(date -u +%T) cluster formed in $((SECONDS - t0)) s: $(membership_line 1)"
}

# One line: node I's epoch, members' states and partitions, the change, the metadata group.
membership_line() {
  get "$1" /admin/membership | jq -c '{epoch, members: [.members[] | "\(.id)/\(.zone):\(.state):\(.partitions)"], change, metadataGroup: {voters: .metadataGroup.voters, listeners: .metadataGroup.listeners, leader: .metadataGroup.leader}}'
}
snapshot() {
  local label=$1 i
  shift
  for i in "$@"; do
    get "$i" /admin/membership >"$json_dir/$label-node$i-membership.json" 2>/dev/null || true
    get "$i" /admin/rebalance >"$json_dir/$label-node$i-rebalance.json" 2>/dev/null || true
  done
}
this_node() { get "$1" /admin/rebalance | jq -c '.thisNode'; }

csv_urls() {
  local i out=""
  for i in "$@"; do out+="${out:+,}$i=$(url "$i")"; done
  echo "$out"
}
all_urls() {
  local i
  for i in "$@"; do printf -- '--url %s ' "$(url "$i")"; done
}

# load LABEL KEYS VALUE_SIZE NODE...: keys bench-0 .. bench-(KEYS-1) through those nodes, at the
# cluster's default quorum (LOADER: batch or bench).
load() {
  local label=$1 keys=$2 size=$3 t0 urls="" i
  shift 3
  t0=$(now)
  if [[ $LOADER == batch ]]; then
    for i in "$@"; do urls+="${urls:+,}$(url "$i")"; done
    echo "## $(date -u +%T) load: POST /kv/_batch with $LOAD_BATCH puts each (keys bench-0..bench-$((keys - 1)), $size B values), $LOAD_CONNECTIONS connections over nodes $*"
    local rc=0
    helper "$cl_dir/load.txt" python3 "$here/load.py" "$urls" "$keys" "$size" "$LOAD_BATCH" "$LOAD_CONNECTIONS" "" || rc=$?
    sed 's/^/## /' "$cl_dir/load.txt"
    (( rc == 0 )) || { echo "## the load failed"; return 1; }
  else
    local args
    read -r -a args <<<"$(all_urls "$@")"
    args+=(--connections 64 --threads "$BENCH_THREADS" --keys "$keys" --value-size "$size" --prefill
      --mix put=1 --warmup 0s --duration 1s --json "$json_dir/$label-prefill.json")
    echo "## $(date -u +%T) load: ${bench_cmd[*]} ${args[*]}"
    "${bench_cmd[@]}" "${args[@]}" >"$cl_dir/prefill.txt" 2>&1 || { tail -20 "$cl_dir/prefill.txt"; echo "## the load failed"; return 1; }
    grep -E '^prefill done' "$cl_dir/prefill.txt" | sed 's/^/## /'
  fi
  echo "## $(date -u +%T) loaded $keys keys of $size B ($(mib $((keys * size))) MiB logical, one copy) in $(secs "$t0" "$(now)") s"
}

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

summary=()

# ------------------------------------------------------------------ pollers (one python process each,
# so polling takes little of the 2 cores from what it measures)

# elastic.py watch KIND NODE T0 TIMEOUT SAMPLES CHECKS SAMPLED [POST_URL]: until the change that KIND
#   (join or remove) of node NODE started is done on every member in CHECKS ("id=url,..."):
#   /admin/membership of each every 0.25 s, and every second a line into SAMPLES with node 1's
#   (the first in CHECKS) epoch and members' states and the /admin/rebalance of every node in SAMPLED
#   (same form), with their bytes streamed per second. Times are seconds since T0 (Unix time), or
#   since the POST to POST_URL when given (made first, after a baseline of the SAMPLED nodes'
#   counters). Prints one JSON line: registered (join: node 1 lists the node), done, the counters'
#   differences per sampled node, the streaming stretch (from the last sample before the first byte
#   to the first sample with the final count), mean and peak MiB/s. Gives up (stalled) when neither
#   node 1's epoch nor the bytes streamed moved for STALL_TIMEOUT s (the change is then stuck).
# elastic.py epochs VIA CHECKS N GAP POLL_MS OUT: N changes alternating POST VIA/admin/rebalance/pause and
#   /resume, GAP s apart, while a poller thread per member in CHECKS reads its /admin/membership
#   every POLL_MS ms (keep-alive); per change the POST's time to answer and the time until each
#   member showed the answered epoch or later (one JSON line per change into OUT); a JSON summary.
# The program goes into a file of its own (a temporary directory) so that helper can run python
# itself in the background: its pid is then python's, which cleanup can stop.
tools_dir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-elastic-tools.XXXXXX")
tmp_dirs+=("$tools_dir")
el_file=$tools_dir/elastic.py
cat >"$el_file" <<'PY'
import http.client, json, os, statistics, sys, threading, time, urllib.error, urllib.parse, urllib.request
tok = os.environ.get("CAIRN_TOKEN")
AUTH = {"Authorization": "Bearer " + tok} if tok else {}
def call(url, method="GET", timeout=5):
    req = urllib.request.Request(url, method=method, headers=AUTH)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.load(r)
def call_status(url, method="POST", timeout=60):
    req = urllib.request.Request(url, method=method, headers=AUTH)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        body = e.read().decode(errors="replace")
        try:
            body = json.loads(body)
        except ValueError:
            pass
        return e.code, body
def try_call(url, timeout=2):
    try:
        return call(url, timeout=timeout)
    except Exception:
        return None
def pairs(text):
    out = []
    for item in text.split(","):
        if item:
            i, u = item.split("=", 1)
            out.append((int(i), u))
    return out
MiB = 1048576.0
cmd = sys.argv[1]
if cmd == "watch":
    kind, node, t0, timeout, samples = sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
    checks, sampled = pairs(sys.argv[7]), pairs(sys.argv[8])
    post = sys.argv[9] if len(sys.argv) > 9 else ""
    fields = ("bytesStreamed", "recordsStreamed", "streamsCompleted", "streamErrors", "chunksServed")
    zero = {f: 0 for f in fields}
    def counters(u):
        r = try_call(u + "/admin/rebalance")
        return r, (dict((f, r["thisNode"].get(f, 0)) for f in fields) if r else None)
    # Baseline: a node that does not answer yet (the joining one) starts from zero.
    base = {i: (counters(u)[1] or dict(zero)) for i, u in sampled}
    last = {i: dict(base[i]) for i, _ in sampled}
    out = {"kind": kind, "node": node, "registered": None, "done": None, "timedOut": False}
    if post:
        t0 = time.time()
        status, answer = call_status(post)
        out["answer"] = {"status": status, "seconds": round(time.time() - t0, 3),
                         "body": {k: answer.get(k) for k in ("applied", "epoch", "change", "code", "message")} if isinstance(answer, dict) else answer}
        out["registered"] = out["answer"]["seconds"]
        if status != 200:
            print(json.dumps(out))
            sys.exit(1)
    def done_in(v):
        if v is None or v.get("change") is not None:
            return False
        ms = {m["id"]: m["state"] for m in v["members"]}
        if kind == "join" and ms.get(node) != "normal":
            return False
        if kind == "remove" and ms.get(node, "removed") != "removed":
            return False
        return all(s in ("normal", "removed") for s in ms.values())
    series = []  # (t, total bytes over the sampled nodes)
    peak = 0.0
    prev_t = None
    next_sample = 0.0
    epoch0 = None
    stall = float(os.environ.get("STALL_TIMEOUT", "300"))
    progress, progress_t = None, 0.0
    out["stalled"] = False
    with open(samples, "w") as f:
        while True:
            t = time.time() - t0
            views = [(i, try_call(u + "/admin/membership")) for i, u in checks]
            v1 = views[0][1]
            if v1 is not None and epoch0 is None:
                epoch0 = v1["epoch"]
            if out["registered"] is None and any(v and any(m["id"] == node for m in v["members"]) for _, v in views):
                out["registered"] = round(t, 2)
            finished = out["registered"] is not None and all(done_in(v) for _, v in views)
            if finished or t >= next_sample or t > timeout:
                parts, rates = [], 0.0
                for i, u in sampled:
                    r, c = counters(u)
                    if c is None:
                        parts.append("n%d: -" % i)
                        continue
                    rate = (c["bytesStreamed"] - last[i]["bytesStreamed"]) / (t - prev_t) / MiB if prev_t is not None and t > prev_t else 0.0
                    rates += rate
                    last[i] = c
                    parts.append("n%d: moving=%s remaining=%s running=%s done=%d bytes=%d records=%d errors=%d served=%d %.2f MiB/s" % (
                        i, r.get("partitionsMoving"), r.get("streamsRemaining"), r["thisNode"].get("streamsRunning"), c["streamsCompleted"],
                        c["bytesStreamed"] - base[i]["bytesStreamed"], c["recordsStreamed"] - base[i]["recordsStreamed"], c["streamErrors"] - base[i]["streamErrors"],
                        c["chunksServed"] - base[i]["chunksServed"], rate))
                total = sum(last[i]["bytesStreamed"] - base[i]["bytesStreamed"] for i, _ in sampled)
                series.append((t, total))
                if prev_t is not None:
                    peak = max(peak, rates)
                prev_t = t
                ch = v1.get("change") if v1 else None
                f.write("+%6.1fs epoch=%s %s change=%s | %s | all %.2f MiB/s\n" % (
                    t, v1["epoch"] if v1 else "-", ",".join("%d:%s" % (m["id"], m["state"]) for m in v1["members"]) if v1 else "-",
                    "%s/%s%s" % (ch["kind"], ch["node"], "/paused" if ch.get("paused") else "") if ch else "none", " | ".join(parts), rates))
                f.flush()
                while next_sample <= t:
                    next_sample += 1.0
            if finished:
                out["done"] = round(t, 2)
                break
            if t > timeout:
                out["timedOut"] = True
                break
            now_progress = (v1["epoch"] if v1 else None, series[-1][1] if series else 0)
            if now_progress != progress:
                progress, progress_t = now_progress, t
            elif t - progress_t > stall:
                out["stalled"] = round(progress_t, 1)
                break
            time.sleep(0.25)
    v1 = try_call(checks[0][1] + "/admin/membership")
    out["epochs"] = [epoch0, v1["epoch"] if v1 else None]
    out["members"] = ["%d/%s:%s:%d" % (m["id"], m["zone"], m["state"], m["partitions"]) for m in v1["members"]] if v1 else None
    out["nodes"] = {}
    for i, u in sampled:
        c = counters(u)[1] or last[i]
        out["nodes"][str(i)] = {f: c[f] - base[i][f] for f in fields}
    total = sum(x["bytesStreamed"] for x in out["nodes"].values())
    out["bytes"] = total
    out["records"] = sum(x["recordsStreamed"] for x in out["nodes"].values())
    # The streaming stretch: from the last sample before the first byte to the first with the final count.
    first = next((k for k, (_, b) in enumerate(series) if b > 0), None)
    if first is not None and total > 0:
        start = series[first - 1][0] if first > 0 else 0.0
        end = next(tt for tt, b in series if b >= total)
        out["streamFrom"], out["streamTo"] = round(start, 1), round(end, 1)
        out["meanMiBs"] = round(total / MiB / (end - start), 2) if end > start else None
    else:
        out["streamFrom"] = out["streamTo"] = out["meanMiBs"] = None
    out["peakMiBs"] = round(peak, 2)
    print(json.dumps(out))
    sys.exit(0 if out["done"] is not None else 1)
elif cmd == "epochs":
    # The answer's "epoch" is not used to find the change: this build answers with the membership view
    # of the node asked, whose "epoch" replaces the change's when that node has not applied it yet.
    # Each change flips change.paused, so a member has applied it when it first shows the new value.
    via, checks, n, gap, poll, outfile = sys.argv[2], pairs(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]) / 1000, sys.argv[7]
    warm = int(sys.argv[8]) if len(sys.argv) > 8 else 0  # unrecorded changes first (the first one also opens connections)
    stop = threading.Event()
    class Poller(threading.Thread):
        def __init__(self, nid, u):
            super().__init__(daemon=True)
            self.nid, self.u = nid, urllib.parse.urlsplit(u)
            self.lock = threading.Lock()
            self.obs = []  # (time the answer arrived, epoch, change.paused or None)
            self.errors = 0
        def conn(self):
            return http.client.HTTPConnection(self.u.hostname, self.u.port, timeout=5)
        def run(self):
            c = self.conn()
            while not stop.is_set():
                try:
                    c.request("GET", "/admin/membership", headers=AUTH)
                    r = c.getresponse()
                    body = r.read()
                    t = time.time()
                    if r.status == 200:
                        v = json.loads(body)
                        with self.lock:
                            self.obs.append((t, v["epoch"], (v.get("change") or {}).get("paused")))
                    else:
                        self.errors += 1
                except Exception:
                    self.errors += 1
                    c.close()
                    c = self.conn()
                time.sleep(poll)
        def first(self, paused, since):
            with self.lock:
                return next(((t, e) for t, e, p in self.obs if t >= since and p == paused), None)
        def latest(self):
            with self.lock:
                return self.obs[-1] if self.obs else None
        def trim(self):
            with self.lock:
                self.obs = self.obs[-1:]
    pollers = [Poller(i, u) for i, u in checks]
    for p in pollers:
        p.start()
    time.sleep(0.5)
    vu = urllib.parse.urlsplit(via)
    pc = http.client.HTTPConnection(vu.hostname, vu.port, timeout=60)
    rows, failures = [], []
    with open(outfile, "w") as f:
        for k in range(warm + n):
            cur = [p.latest() for p in pollers]
            if any(c is None for c in cur) or len(set(c[2] for c in cur)) != 1 or cur[0][2] is None:
                failures.append({"change": k + 1, "error": "the members do not all show one running change: %s" % cur})
                f.write(json.dumps(failures[-1]) + "\n")
                break
            paused = cur[0][2]
            action = "resume" if paused else "pause"
            before = max(c[1] for c in cur)
            for p in pollers:
                p.trim()
            t_send = time.time()
            pc.request("POST", "/admin/rebalance/" + action, headers=AUTH)
            r = pc.getresponse()
            body = r.read()
            t_ans = time.time()
            try:
                ans = json.loads(body)
            except ValueError:
                ans = {"raw": body.decode(errors="replace")}
            if r.status != 200:
                failures.append({"change": k + 1, "action": action, "status": r.status, "answer": ans})
                f.write(json.dumps(failures[-1]) + "\n")
                break
            deadline = time.time() + 30
            per = {}
            while time.time() < deadline:
                per = {p.nid: p.first(not paused, t_send) for p in pollers}
                if all(v is not None for v in per.values()):
                    break
                time.sleep(0.002)
            lat = {str(i): (round((v[0] - t_send) * 1000, 1) if v is not None else None) for i, v in per.items()}
            seen = [v[1] for v in per.values() if v is not None]
            complete = len(seen) == len(pollers)
            row = {"change": k + 1 - warm, "warmup": k < warm, "action": action, "epochBefore": before, "epochSeen": min(seen) if seen else None,
                   "answerEpoch": ans.get("epoch"), "answerPaused": (ans.get("change") or {}).get("paused"),
                   "postMs": round((t_ans - t_send) * 1000, 1), "everyMemberMs": max(lat.values()) if complete else None, "perMemberMs": lat}
            row["answerStale"] = row["answerPaused"] == paused
            rows.append(row)
            f.write(json.dumps(row) + "\n")
            f.flush()
            time.sleep(gap)
    stop.set()
    def stats(xs):
        xs = sorted(x for x in xs if x is not None)
        if not xs:
            return None
        q = lambda p: xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]
        return {"n": len(xs), "min": xs[0], "median": round(statistics.median(xs), 1), "p90": q(0.9), "max": xs[-1]}
    rows = [r for r in rows if not r["warmup"]]
    out = {"changes": len(rows), "failures": failures, "everyMember": stats([r["everyMemberMs"] for r in rows]),
           "post": stats([r["postMs"] for r in rows]),
           "perMember": {str(p.nid): stats([r["perMemberMs"][str(p.nid)] for r in rows]) for p in pollers},
           "staleAnswers": sum(1 for r in rows if r["answerStale"]),
           "pollErrors": {str(p.nid): p.errors for p in pollers}}
    print(json.dumps(out))
    sys.exit(1 if failures or any(r["everyMemberMs"] is None for r in rows) else 0)
PY
# helper OUT COMMAND...: runs COMMAND in the background, its stdout into OUT, and waits for it, so a
# TERM or Ctrl-C reaches this script at once (cleanup then stops COMMAND too).
helper() {
  local out=$1 pid rc=0 p keep=()
  shift
  "$@" >"$out" &
  pid=$!
  helper_pids+=("$pid")
  wait "$pid" || rc=$?
  for p in "${helper_pids[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
  helper_pids=("${keep[@]}")
  return "$rc"
}

# watch_join LABEL T0 TIMEOUT: elastic.py watch for node 4's join (every member checked, node 4's
# rebalance sampled); its JSON into json_dir/LABEL-watch.json, the samples into LABEL-samples.txt.
watch_join() {
  helper "$json_dir/$1-watch.json" python3 "$el_file" watch join 4 "$2" "$3" "$json_dir/$1-samples.txt" "$(csv_urls 1 2 3 4)" "$(csv_urls 4)"
}
# print_samples FILE: the first 10 lines, then every 5th, and the last.
print_samples() {
  echo "## samples (every second; MiB/s = bytes streamed in since the previous sample):"
  awk 'NR <= 10 || NR % 5 == 0 {print} {last = $0; n = NR} END {if (n > 10 && n % 5 != 0) print last}' "$1" | cut -c1-400 | sed 's/^/##   /'
  echo "## (every sample in $1)"
}
watch_line() {
  jq -r '"## registered at +\(.registered // "-") s, done at +\(.done // "-") s\(if .timedOut then " (TIMED OUT)" else "" end)\(if .stalled then " (STALLED: no new epoch and no byte streamed since +\(.stalled) s)" else "" end); epochs \(.epochs[0]) -> \(.epochs[1]); members: \(.members // [] | join(" "))",
    "## streamed: \(.nodes | to_entries | map("node \(.key): \(.value.bytesStreamed) B, \(.value.recordsStreamed) records, \(.value.streamsCompleted) streams, \(.value.streamErrors) chunk errors, \(.value.chunksServed) chunks served") | join("; "))",
    "## streaming from +\(.streamFrom // "-") s to +\(.streamTo // "-") s: mean \(.meanMiBs // "-") MiB/s, peak second \(.peakMiBs) MiB/s"' "$1"
}

# ================================================================== part 1: join time and streaming rate

part1_run() {
  local throttle=$1 label="p1-$1" sets=()
  case $throttle in
    default) ;;
    unlimited) sets+=(moves.maxBytesPerSecond=1024GiB) ;; # 2^40, the largest it takes (1TiB is not a size to Cairn)
    *) sets+=("moves.maxBytesPerSecond=$throttle") ;;
  esac
  echo
  echo "### part 1: node 4 joins a three-node cluster holding $P1_KEYS keys of $P1_VALUE_SIZE B; moves.maxBytesPerSecond: $throttle${sets[0]:+ (${sets[0]} on every node)}"
  cluster_init "${sets[@]}"
  print_cmds
  start_cluster || return 1
  load "$label" "$P1_KEYS" "$P1_VALUE_SIZE" 1 2 3 || return 1
  echo "## $(date -u +%T) waiting for the cores to settle after the load"
  wait_idle
  snapshot "$label-before" 1
  local t0 rc=0
  echo "## $(date -u +%T) node 4 started (its command line above); watching every member's /admin/membership every 0.25 s, node 4's /admin/rebalance every second"
  cpu_mark
  t0=$(now)
  start_node 4
  watch_join "$label" "$t0" "$P1_TIMEOUT" || rc=$?
  cpu_report "the join (node 4's start to done)"
  print_samples "$json_dir/$label-samples.txt"
  watch_line "$json_dir/$label-watch.json"
  snapshot "$label-after" 1 2 3 4
  echo "## node 1 after: $(membership_line 1)"
  echo "## node 4 /admin/rebalance thisNode: $(this_node 4)"
  local d=$((P1_KEYS * P1_VALUE_SIZE))
  summary+=("$throttle $(mib "$d") $(jq -r --arg d "$d" '"\(.registered // "-") \(.done // "-") \(if .done and .registered then ((.done - .registered) * 10 | round / 10) else "-" end) \(.bytes / 1048576 * 10 | round / 10) \(.records) \(.nodes["4"].streamsCompleted) \(.meanMiBs // "-") \(.peakMiBs) \(.bytes / ($d | tonumber) * 100 | round / 100)"' "$json_dir/$label-watch.json") $(other_col)")
  (( rc == 0 )) || { echo "## the join did not finish in $P1_TIMEOUT s"; return 1; }
}

part1() {
  echo
  echo "################ part 1: join time and streaming rate ($P1_KEYS keys of $P1_VALUE_SIZE B, node 4 in $JOIN_ZONE; throttles: $P1_THROTTLES)"
  summary=()
  local t
  for t in $P1_THROTTLES; do guarded "p1-$t" part1_run "$t"; done
  echo
  echo "## part 1 summary: seconds from node 4's start to its registration (node 1 lists it) and to the change done on every"
  echo "## member; join = registered -> done; MiB / records / streams = streamed into node 4 (its /admin/rebalance thisNode);"
  echo "## mean MiB/s over the streaming stretch (last sample before the first byte to the first with the final count, 1 s"
  echo "## resolution), peak = the fastest second; x data = streamed / logical data (one copy); other = cores anything else took (* disturbed)"
  printf '%-10s %9s %10s %7s %7s %9s %9s %7s %9s %9s %7s %7s\n' throttle data_MiB registered done join MiB records streams mean_MiB/s peak_MiB/s x_data other
  local row
  for row in "${summary[@]}"; do printf '%-10s %9s %10s %7s %7s %9s %9s %7s %9s %9s %7s %7s\n' $row; done
}

# ================================================================== part 2: client latency during a rebalance

# bench_run LABEL DURATION [record]: the part's load against nodes 1-3; with record, its JSON
# report and output go to json_dir and the output (without progress lines) into the results.
p2_args() {
  local args
  read -r -a args <<<"$(all_urls 1 2 3)"
  args+=(--connections "$P2_CONNECTIONS" --threads "$BENCH_THREADS" --keys "$P2_KEYS" --value-size "$P2_VALUE_SIZE" --mix "$P2_MIX")
  (( P2_RATE > 0 )) && args+=(--rate "$P2_RATE")
  [[ -n "$P2_QUERY" ]] && args+=(--query "$P2_QUERY")
  printf '%s\n' "${args[@]}"
}

p2_row() {
  local label=$1 run=$2 done=$3 within=$4
  jq -r --arg run "$run" --arg done "$done" --arg within "$within" --arg other "$(other_col)" '
    "\($run) \(.total.throughputOpsPerSecond * 10 | round / 10) \(.total.latencyMillis.p50) \(.total.latencyMillis.p99) \(.total.latencyMillis["p99.9"]) \(.total.latencyMillis.max) \(.total.errors) \(.total.shed) \(.openLoop.sentDelayed // "-") \(.openLoop.unsent // "-") \($done) \($within) \($other)"' \
    "$json_dir/$label.json" 2>/dev/null || echo "$run ? ? ? ? ? ? ? ? ? $done $within $(other_col)"
}

# p2_measure LABEL RUN WHAT: one recorded run of the part's load (args), its CPU reported as WHAT,
# its output printed and its summary row (RUN) added; JSON and output go to json_dir/LABEL-RUN.*.
p2_measure() {
  local label=$1 run=$2 what=$3 rc=0
  cpu_mark
  "${bench_cmd[@]}" "${args[@]}" --json "$json_dir/$label-$run.json" >"$json_dir/$label-$run.out" 2>&1 || rc=$?
  cpu_report "$what"
  grep -v '^ *$' "$json_dir/$label-$run.out" | sed 's/^/  /'
  echo "## cairn bench exit code $rc"
  summary+=("$(p2_row "$label-$run" "$run" - -)")
}

part2_body() {
  local label=p2
  cluster_init
  print_cmds
  start_cluster || return 1
  load "$label" "$P2_KEYS" "$P2_VALUE_SIZE" 1 2 3 || return 1
  local base=() rc=0
  mapfile -t base < <(p2_args)
  if [[ $P2_MOVE_WARMUP == 1 ]]; then
    # Nodes that have run for a while have compiled the code a change runs (streams served and
    # stored, joint writes, drops); a fresh cluster compiles it during the measured join.
    echo "## $(date -u +%T) move warm-up (unrecorded): node 5 ($member5) joins through node $JOIN_VIA, then is decommissioned, under the load"
    node_cmd 5
    echo "## node 5: ${cmd[*]//$cl_dir/<tmp>}"
    "${bench_cmd[@]}" "${base[@]}" --warmup 0s --duration 600s --max-error-ratio 1 >/dev/null 2>&1 &
    local lpid=$! t5
    helper_pids+=("$lpid")
    t5=$(now)
    start_node 5
    helper "$json_dir/$label-warmup-join.json" python3 "$el_file" watch join 5 "$t5" "$P2_TIMEOUT" "$json_dir/$label-warmup-join-samples.txt" \
      "$(csv_urls 1 2 3 5)" "$(csv_urls 5)" || { echo "## node 5 did not join"; return 1; }
    helper "$json_dir/$label-warmup-leave.json" python3 "$el_file" watch remove 5 0 "$P2_TIMEOUT" "$json_dir/$label-warmup-leave-samples.txt" \
      "$(csv_urls 1 2 3)" "$(csv_urls 1 2 3)" "$(url 1)/admin/membership/decommission?node=5" || { echo "## node 5 did not leave"; return 1; }
    stop_pid "$lpid"; wait "$lpid" 2>/dev/null || true
    stop_pid "${node_pid[5]}"; wait "${node_pid[5]}" 2>/dev/null || true
    unset 'node_pid[5]'
    helper_pids=()
    echo "## $(date -u +%T) node 5 joined in $(jq -r '.done' "$json_dir/$label-warmup-join.json") s and left in $(jq -r '.done' "$json_dir/$label-warmup-leave.json") s: $(membership_line 1)"
  fi
  if [[ $P2_JIT_WARMUP != 0 && $P2_JIT_WARMUP != 0s ]]; then
    echo "## $(date -u +%T) JIT warm-up (unrecorded): ${bench_cmd[*]} ${base[*]} --warmup 0s --duration $P2_JIT_WARMUP"
    "${bench_cmd[@]}" "${base[@]}" --warmup 0s --duration "$P2_JIT_WARMUP" --max-error-ratio 1 2>&1 | grep -E '^total' | sed 's/^/## warm-up: /' || true
  fi
  wait_idle

  local args=("${base[@]}" --warmup "$P2_WARMUP" --duration "$P2_DURATION" --max-error-ratio 1)
  echo
  echo "## $(date -u +%T) quiet run: ${bench_cmd[*]} ${args[*]} --json $json_dir/$label-quiet.json"
  p2_measure "$label" quiet "the quiet run"

  if [[ -n "$P2_HOG" ]]; then
    # The control: the quiet run again beside P2_HOG cores of busy work scheduled as node 4 will
    # be (NODE4_NICE, NODE4_SCHED). What the p99 gains here comes from a fifth busy process on
    # these two cores, not from the join; a joining node on a machine of its own does not add it.
    # The interpreter itself, not a wrapper (a pyenv shim) that a TERM would leave it running under.
    local hog=("$(python3 -c 'import sys; print(sys.executable)')" "$here/hog.py" "$P2_HOG") hpid
    [[ -n "$P2_HOG_WRITE" ]] && hog+=(--write-mibps "$P2_HOG_WRITE" --dir "$cl_dir")
    [[ -n "${NODE4_NICE:-}" ]] && hog=(nice -n "$NODE4_NICE" "${hog[@]}")
    [[ "${NODE4_SCHED:-}" == idle ]] && hog=(chrt --idle 0 "${hog[@]}")
    wait_idle
    echo
    echo "## $(date -u +%T) quiet run beside a hog ($P2_HOG cores, ${hog[*]}): ${bench_cmd[*]} ${args[*]} --json $json_dir/$label-hog.json"
    "${hog[@]}" &
    hpid=$!
    helper_pids+=("$hpid")
    p2_measure "$label" hog "the quiet run beside the hog"
    stop_pid "$hpid"; wait "$hpid" 2>/dev/null || true
    helper_pids=()
    wait_idle
  fi

  echo
  echo "## $(date -u +%T) join run: node 4 started and, $([[ $P2_START == registered ]] && echo "as soon as node 1 lists it" || echo "at the same moment"), ${bench_cmd[*]} ${args[*]} --json $json_dir/$label-join.json"
  local t0 tb te wpid
  rc=0
  t0=$(now)
  start_node 4
  python3 "$el_file" watch join 4 "$t0" "$P2_TIMEOUT" "$json_dir/$label-join-samples.txt" "$(csv_urls 1 2 3 4)" "$(csv_urls 4)" >"$json_dir/$label-join-watch.json" &
  wpid=$!
  helper_pids+=("$wpid")
  if [[ $P2_START == registered ]]; then
    node4_listed() { get 1 /admin/membership | jq -e '.members | any(.id == 4)' >/dev/null; }
    wait_until 120 node4_listed || echo "## node 1 does not list node 4 after 120 s: starting the run anyway"
  fi
  cpu_mark
  tb=$(now)
  "${bench_cmd[@]}" "${args[@]}" --json "$json_dir/$label-join.json" >"$json_dir/$label-join.out" 2>&1 || rc=$?
  te=$(now)
  cpu_report "the join run (cairn bench's run)"
  grep -v '^ *$' "$json_dir/$label-join.out" | sed 's/^/  /'
  echo "## cairn bench exit code $rc; it ran from +$(secs "$t0" "$tb") s to +$(secs "$t0" "$te") s after node 4's start"
  echo "## $(date -u +%T) waiting (up to $P2_TIMEOUT s from node 4's start) for the change to finish"
  local wrc=0
  wait "$wpid" || wrc=$?
  helper_pids=()
  print_samples "$json_dir/$label-join-samples.txt"
  watch_line "$json_dir/$label-join-watch.json"
  local done within
  done=$(jq -r '.done // "-"' "$json_dir/$label-join-watch.json")
  within=$(python3 -c 'import sys; d, t0, te = sys.argv[1:]; print("-" if d == "-" else ("yes" if float(t0) + float(d) <= float(te) else "no"))' "$done" "$t0" "$te")
  echo "## the change finished within the run: $within"
  snapshot "$label-after" 1 2 3 4
  summary+=("$(p2_row "$label-join" join "$done" "$within")")
  (( wrc == 0 )) || { echo "## the join did not finish in $P2_TIMEOUT s"; return 1; }
}

part2() {
  echo
  echo "################ part 2: client latency while node 4 joins vs quiet ($P2_MIX, $( (( P2_RATE > 0 )) && echo "open loop at $P2_RATE ops/s" || echo "closed loop"), $P2_CONNECTIONS connections over nodes 1-3, $P2_KEYS keys of $P2_VALUE_SIZE B, ${P2_QUERY:-default quorums W=2 R=2}, $P2_DURATION)"
  summary=()
  guarded p2 part2_body
  echo
  echo "## part 2 summary: cairn bench over nodes 1-3 ($P2_MIX, --warmup $P2_WARMUP --duration $P2_DURATION, after an unrecorded"
  echo "## $P2_JIT_WARMUP run); join: the run started $([[ $P2_START == registered ]] && echo "as node 1 listed node 4 (started with --join)" || echo "with node 4's process (--join)"); done = seconds from node 4's start to the change"
  echo "## done on every member; within = done before the run ended; delayed/unsent: open loop (latency counts from when due)"
  printf '%-6s %9s %9s %9s %9s %9s %7s %6s %8s %7s %7s %7s %7s\n' run ops/s p50_ms p99_ms p99.9_ms max_ms errors shed delayed unsent done within other
  local row
  for row in "${summary[@]}"; do printf '%-6s %9s %9s %9s %9s %9s %7s %6s %8s %7s %7s %7s %7s\n' $row; done
}

# ================================================================== part 3: re-replicating a lost node

part3_body() {
  local label=p3 t0 rc=0
  cluster_init
  print_cmds
  start_cluster || return 1
  t0=$(now)
  start_node 4
  watch_join "$label-join" "$t0" "$P3_TIMEOUT" || { watch_line "$json_dir/$label-join-watch.json"; echo "## node 4's join did not finish"; return 1; }
  echo "## $(date -u +%T) node 4 joined the empty cluster: $(jq -r '"registered at +\(.registered) s, done at +\(.done) s"' "$json_dir/$label-join-watch.json"); $(membership_line 1)"
  load "$label" "$P3_KEYS" "$P3_VALUE_SIZE" 1 2 3 4 || return 1
  echo "## $(date -u +%T) waiting for the cores to settle after the load"
  wait_idle
  snapshot "$label-before" 1 2 3 4
  local i
  for i in 1 2 3; do echo "## node $i before: /admin/rebalance thisNode $(this_node "$i")"; done
  echo "## $(date -u +%T) kill -9 node 4 (pid ${node_pid[4]}), then at once curl -X POST $(url 1)/admin/membership/remove?node=4&force=true (at once: before the failure detector counts it down, so force)"
  kill -KILL "${node_pid[4]}" 2>/dev/null || true
  wait "${node_pid[4]}" 2>/dev/null || true
  unset 'node_pid[4]'
  cpu_mark
  helper "$json_dir/$label-watch.json" python3 "$el_file" watch remove 4 0 "$P3_TIMEOUT" "$json_dir/$label-samples.txt" \
    "$(csv_urls 1 2 3)" "$(csv_urls 1 2 3)" "$(url 1)/admin/membership/remove?node=4&force=true" || rc=$?
  cpu_report "the re-replication (the POST to done)"
  jq -r '"## answer: \(.answer | tojson)"' "$json_dir/$label-watch.json"
  print_samples "$json_dir/$label-samples.txt"
  watch_line "$json_dir/$label-watch.json"
  snapshot "$label-after" 1 2 3
  echo "## node 1 after: $(membership_line 1)"
  # Read back a few keys across the range at the default quorum (R=2) through node 1.
  local k ok=0 checked=0 st
  for k in 0 $((P3_KEYS - 1)) $(python3 -c "import random, sys; print(' '.join(str(random.randrange(int(sys.argv[1]))) for _ in range(int(sys.argv[2]) - 2)))" "$P3_KEYS" "$P3_CHECKS"); do
    checked=$((checked + 1))
    st=$(curl -s -o "$cl_dir/value" -w '%{http_code}' --max-time 5 "$(url 1)/kv/bench-$k")
    if [[ $st == 200 && $(stat -c %s "$cl_dir/value") == "$P3_VALUE_SIZE" ]]; then ok=$((ok + 1)); else echo "## GET bench-$k: $st"; fi
  done
  echo "## read back through node 1: $ok of $checked keys answered 200 with $P3_VALUE_SIZE B"
  local d=$((P3_KEYS * P3_VALUE_SIZE))
  summary+=("$(mib "$d") $(jq -r '"\(.answer.seconds) \(.done // "-") \(.nodes["1"].bytesStreamed / 1048576 * 10 | round / 10) \(.nodes["2"].bytesStreamed / 1048576 * 10 | round / 10) \(.nodes["3"].bytesStreamed / 1048576 * 10 | round / 10) \(.bytes / 1048576 * 10 | round / 10) \(.records) \(.meanMiBs // "-") \(.peakMiBs)"' "$json_dir/$label-watch.json") $ok/$checked $(other_col)")
  (( rc == 0 )) || { echo "## the remove did not finish in $P3_TIMEOUT s"; return 1; }
}

part3() {
  echo
  echo "################ part 3: re-replicating a lost node (4 nodes, $P3_KEYS keys of $P3_VALUE_SIZE B; node 4 killed and removed)"
  summary=()
  guarded p3 part3_body
  echo
  echo "## part 3 summary: seconds from POST /admin/membership/remove?node=4&force=true (right after kill -9) to its answer and to the change"
  echo "## done on nodes 1-3; MiB streamed into each survivor (/admin/rebalance thisNode, difference from before the POST) and"
  echo "## in all; mean MiB/s over the streaming stretch (1 s resolution), peak second; read = keys read back through node 1"
  printf '%9s %8s %7s %9s %9s %9s %9s %9s %10s %10s %7s %7s\n' data_MiB answer done n1_MiB n2_MiB n3_MiB all_MiB records mean_MiB/s peak_MiB/s read other
  local row
  for row in "${summary[@]}"; do printf '%9s %8s %7s %9s %9s %9s %9s %9s %10s %10s %7s %7s\n' $row; done
}

# ================================================================== part 4: metadata change latency

part4_body() {
  local label=p4 res rc=0
  cluster_init
  node4_sets=("moves.maxBytesPerSecond=$P4_NODE4_RATE")
  print_cmds
  start_cluster || return 1
  load "$label" "$P4_KEYS" 1024 1 2 3 || return 1
  start_node 4
  joined_running() {
    [[ $(get 4 /admin/membership | jq -r '.change.kind // ""') == join && $(get 1 /admin/membership | jq -r '.change.kind // ""') == join ]]
  }
  wait_until 120 joined_running || { echo "## node 4's join did not start (or node 4 does not answer) within 120 s"; return 1; }
  sleep 2
  echo "## $(date -u +%T) node 4 joined, its plan running (moves.maxBytesPerSecond=$P4_NODE4_RATE on node 4): $(membership_line 1)"
  echo "## node 4's /admin/rebalance: $(get 4 /admin/rebalance | jq -c '{epoch, partitionsMoving, streamsRemaining, thisNode}')"
  echo "## $(date -u +%T) $P4_WARMUP_CHANGES unrecorded changes (change <= 0 below), then $P4_CHANGES: curl -X POST $(url "$P4_VIA")/admin/rebalance/pause, then /resume, alternating, $P4_GAP s apart;"
  echo "## every member's GET /admin/membership polled every $P4_POLL_MS ms (one keep-alive connection each)"
  cpu_mark
  helper "$json_dir/$label-result.json" python3 "$el_file" epochs "$(url "$P4_VIA")" "$(csv_urls 1 2 3 4)" "$P4_CHANGES" "$P4_GAP" "$P4_POLL_MS" "$json_dir/$label-changes.txt" "$P4_WARMUP_CHANGES" || rc=$?
  res=$(cat "$json_dir/$label-result.json")
  cpu_report "the changes"
  sed 's/^/##   /' "$json_dir/$label-changes.txt"
  echo "## $(jq -c . <<<"$res")"
  echo "## node 1 after: $(membership_line 1)"
  snapshot "$label-after" 1 2 3 4
  echo "## answers whose view did not show the change yet (stale epoch and change.paused): $(jq -r '"\(.staleAnswers) of \(.changes)"' <<<"$res")"
  summary+=("$(jq -r '"every_member \(.everyMember.n // 0) \(.everyMember.min // "-") \(.everyMember.median // "-") \(.everyMember.p90 // "-") \(.everyMember.max // "-")",
    "post_answer \(.post.n // 0) \(.post.min // "-") \(.post.median // "-") \(.post.p90 // "-") \(.post.max // "-")",
    (.perMember | to_entries[] | "node_\(.key) \(.value.n // 0) \(.value.min // "-") \(.value.median // "-") \(.value.p90 // "-") \(.value.max // "-")")' <<<"$res")")
  (( rc == 0 )) || { echo "## some change failed or was not seen everywhere in 30 s"; return 1; }
}

part4() {
  echo
  echo "################ part 4: metadata change latency ($P4_CHANGES pause/resume changes while node 4's join runs throttled at $P4_NODE4_RATE)"
  summary=()
  guarded p4 part4_body
  echo
  echo "## part 4 summary, ms from sending POST /admin/rebalance/pause|resume to node $P4_VIA: every_member = until every member"
  echo "## (node 4 too) answered /admin/membership with the change applied (change.paused flipped); post_answer = until"
  echo "## the POST answered; node_I = until node I showed it (resolution: the $P4_POLL_MS ms poll interval plus one request)"
  printf '%-13s %8s %9s %9s %9s %9s\n' what changes min_ms median_ms p90_ms max_ms
  local row
  for row in "${summary[@]}"; do
    while IFS= read -r line; do printf '%-13s %8s %9s %9s %9s %9s\n' $line; done <<<"$row"
  done
}

# ================================================================== main

run() {
  echo "# bench/elastic.sh, parts: $PARTS"
  machine_info
  echo "# $("$JAVA" -jar "$CAIRN_JAR" --version) ($CAIRN_JAR), $("$JAVA" -version 2>&1 | head -1)"
  echo "# heap $HEAP per node, zones zone-a/b/c, node 4 in $JOIN_ZONE joining through node $JOIN_VIA, loader $LOADER${NODE_SETS:+, every node: $NODE_SETS}; JSON and samples: $json_dir"
  local p
  for p in $PARTS; do "part$p"; done
  return "$failed"
}

status=0
exec 3>&1
run > >(tee -a "$results" >&3) 2>&1 || status=$?
sleep 1 # let tee finish writing
echo "results: $results" >&3
exit "$status"
