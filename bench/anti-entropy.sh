#!/usr/bin/env bash
# What anti-entropy costs and what it does, on this machine (loopback, free ports, fresh data
# directories removed on exit). Four parts, each on its own fresh cluster (or node):
#
#   1. Write cost: `cairn bench --mix put=100` (1 KiB values, P1_CONNECTIONS connections over the
#      three nodes of an N=3 cluster at its default quorums, P1_KEYS keys prefilled, an unrecorded
#      JIT warm-up, then P1_WARMUP + P1_DURATION measured) with anti-entropy on (the default) and
#      off (antiEntropy.enabled=false on every node), alternating as P1_RUNS says (a fresh cluster
#      each run; "on+key=value+..." adds settings to a run). Reports every run, the nodes' CPU per
#      put, the means and the difference to off in %.
#   2. Finding a few differing keys among many: P2_KEYS keys (P2_VALUE_SIZE bytes) prefilled into a
#      cluster with cluster.hintWindow=1s ttl.purgeGrace=1h antiEntropy.cycle=1h
#      cluster.faultInjection=true; node 3 cut off from nodes 1 and 2 (POST /admin/faults?block=
#      on all three), P2_DIFF_KEYS new keys written at w=2 through node 1, their hints left to be
#      dropped, the cuts healed; then `POST /admin/repair?namespace=default` on node 3 until no
#      round is queued and node 3 holds every new key. Reports node 3's sinceStart.bytesExchanged
#      and the time for that pass, for a pass before the cut (after the prefill) and for a pass
#      after the repair (nothing differs).
#   3. Converging a replica that missed P3_KEYS keys: node 3 killed (P3_SIGNAL), P3_KEYS keys of
#      1 KiB written at w=2 through nodes 1 and 2 (cluster.hintWindow=1s, ttl.purgeGrace=1h), their
#      hints dropped, node 3 started again (same data dir, ports and settings) and
#      `POST /admin/repair` on it as soon as it answers /health. Sampled every second until node 3's
#      /admin/repair says settled; reports when the records moved to it (node 3's keysFetched +
#      nodes 1 and 2's keysPushed) reached P3_KEYS with node 3's differingKeys 0, when the last
#      record moved, when node 3 settled, the bytes moved and exchanged; then spot checks
#      (GET /admin/keys) and a verifying forced pass that must move nothing. Once per P3_BUDGETS
#      entry (antiEntropy.maxBytesPerSecond, "default" = not set; BUDGET@alive posts only once
#      node 3 sees its peers alive).
#   4. Scrub rate: one node (no cluster) with P4_KEYS records of 1 KiB; after the prefill,
#      cairn_scrub_bytes_total / cairn_scrub_records_total from /metrics every P4_EVERY s,
#      P4_SAMPLES times, and the node's CPU (from /proc/PID/stat) over each interval. Once per
#      P4_RATES entry (antiEntropy.scrubRate; "default" = not set).
#
#   bench/anti-entropy.sh                                    # all four parts, ~14 min
#   PARTS="1 3" bench/anti-entropy.sh                        # some parts only
#   LOCK_FILE=/work/machine.lock bench/anti-entropy.sh       # each part's run under flock(1) on it
#
# Parts 2-4 load their keys through POST /kv/_batch (LOAD_BATCH puts per request, LOAD_CONNECTIONS
# connections; failed operations are sent again up to LOAD_RETRIES times).
#
# Output: OUT_DIR (default bench/results/anti-entropy-<yyyymmdd><TAG>)/anti-entropy<TAG>.txt: the
# machine, the exact commands and settings, what each step saw, and a summary per part at the
# end; OUT_DIR/json<TAG>/: cairn bench JSON reports, /admin/repair snapshots and sample series.
#
# Settings (environment): PARTS ("1 2 3 4"), HEAP (1g per node), BENCH_THREADS (2),
#   P1_RUNS ("on off on off"), P1_KEYS (5000), P1_VALUE_SIZE (1024), P1_CONNECTIONS (64),
#   P1_JIT_WARMUP (10s), P1_WARMUP (5s), P1_DURATION (20s),
#   P2_KEYS (1000000), P2_VALUE_SIZE (100), P2_DIFF_KEYS (10), P2_TIMEOUT (300 s per pass),
#   P3_KEYS (100000), P3_VALUE_SIZE (1024), P3_BUDGETS ("default 64MiB"), P3_SIGNAL (KILL),
#   P3_TIMEOUT (600 s), P4_KEYS (500000), P4_VALUE_SIZE (1024), P4_RATES ("default 256MiB"),
#   P4_EVERY (5), P4_SAMPLES (6), CAIRN_JAR (cairn-cli/target/cairn.jar), JAVA, OUT_DIR, TAG,
#   LOCK_FILE (empty: no locking; else every part's run holds flock on it, and nothing of ours
#   runs between them), IDLE_BUSY (10 %) and IDLE_WAIT (600 s: how long to wait for idle cores
#   before a run), LOAD_BATCH (500), LOAD_CONNECTIONS (6), LOAD_RETRIES (5),
#   KEEP_LOGS (1: copy node logs into OUT_DIR/logs).
# Needs: curl, jq, python3, a JDK 21+, a built cairn-cli/target/cairn.jar.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
source "$here/lib.sh"

PARTS=${PARTS:-"1 2 3 4"}
HEAP=${HEAP:-1g}
BENCH_THREADS=${BENCH_THREADS:-2}
P1_RUNS=${P1_RUNS:-"on off on off"}
P1_KEYS=${P1_KEYS:-5000}
P1_VALUE_SIZE=${P1_VALUE_SIZE:-1024}
P1_CONNECTIONS=${P1_CONNECTIONS:-64}
P1_JIT_WARMUP=${P1_JIT_WARMUP:-10s}
P1_WARMUP=${P1_WARMUP:-5s}
P1_DURATION=${P1_DURATION:-20s}
P2_KEYS=${P2_KEYS:-1000000}
P2_VALUE_SIZE=${P2_VALUE_SIZE:-100}
P2_DIFF_KEYS=${P2_DIFF_KEYS:-10}
P2_TIMEOUT=${P2_TIMEOUT:-300}
P3_KEYS=${P3_KEYS:-100000}
P3_VALUE_SIZE=${P3_VALUE_SIZE:-1024}
P3_BUDGETS=${P3_BUDGETS:-"default 64MiB"}
P3_SIGNAL=${P3_SIGNAL:-KILL}
P3_TIMEOUT=${P3_TIMEOUT:-600}
P4_KEYS=${P4_KEYS:-500000}
P4_VALUE_SIZE=${P4_VALUE_SIZE:-1024}
P4_RATES=${P4_RATES:-"default 256MiB"}
P4_EVERY=${P4_EVERY:-5}
P4_SAMPLES=${P4_SAMPLES:-6}
LOCK_FILE=${LOCK_FILE:-}
IDLE_BUSY=${IDLE_BUSY:-10}
LOAD_BATCH=${LOAD_BATCH:-500}
LOAD_CONNECTIONS=${LOAD_CONNECTIONS:-6}
IDLE_WAIT=${IDLE_WAIT:-600}
KEEP_LOGS=${KEEP_LOGS:-0}
TAG=${TAG:-}
CAIRN_JAR=${CAIRN_JAR:-$repo/cairn-cli/target/cairn.jar}
JAVA=${JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/}java}
# Cairn needs Java 21+; the machine's default java may be older (Debian 12: 17).
if ! "$JAVA" -version 2>&1 | grep -Eq 'version "(2[1-9]|[3-9][0-9])'; then
  for candidate in /usr/lib/jvm/*/bin/java; do
    if "$candidate" -version 2>&1 | grep -Eq 'version "(2[1-9]|[3-9][0-9])'; then JAVA=$candidate; fi
  done
fi
OUT_DIR=${OUT_DIR:-$here/results/anti-entropy-$(date -u +%Y%m%d)$TAG}

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
json_dir="$OUT_DIR/json$TAG"
mkdir -p "$json_dir"
results="$OUT_DIR/anti-entropy$TAG.txt"

bench_cmd=("$JAVA" -jar "$CAIRN_JAR" bench)

# ------------------------------------------------------------------ processes, lock, cleanup

declare -A node_pid=()
tmp_dirs=()
cl_dir=""
cleanup() {
  local i d
  for i in "${!node_pid[@]}"; do stop_pid "${node_pid[$i]}"; done
  for i in "${!node_pid[@]}"; do wait "${node_pid[$i]}" 2>/dev/null || true; done
  for d in "${tmp_dirs[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# (lock, unlock, wait_idle, the tick counters and the CPU accounting cpu_mark / cpu_report are in lib.sh)
# guarded LABEL FUNCTION ARGS...: one part's run, under the lock; whatever happens in it, its
# servers are stopped and their data removed before the lock is released.
failed=0
guarded() {
  local label=$1
  shift
  lock
  machine_line
  wait_idle
  if ! "$@"; then
    echo "## $label FAILED"
    failed=1
  fi
  cluster_stop "$label"
  unlock
}

# ------------------------------------------------------------------ one cluster (or node) at a time

declare -a http_ports=() internode_ports=()
members=""
cl_sets=()
single=0

# cluster_init SETTING...: a fresh three-node cluster's ports, data dirs and certificates (not
# started); every node gets the settings (k=v).
cluster_init() {
  local i
  cl_dir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-ae.XXXXXX")
  tmp_dirs+=("$cl_dir")
  cl_sets=("$@")
  single=0
  members=""
  for i in 1 2 3; do
    http_ports[i]=$(free_port)
    internode_ports[i]=$(free_port)
    members+="${members:+,}$i/zone-$i/127.0.0.1:${http_ports[i]}/127.0.0.1:${internode_ports[i]}"
  done
  cairn_certs "$cl_dir" 1 2 3
}

# single_init SETTING...: one node, no cluster.
single_init() {
  cl_dir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-ae.XXXXXX")
  tmp_dirs+=("$cl_dir")
  cl_sets=("$@")
  single=1
  http_ports[1]=$(free_port)
  unset CAIRN_TOKEN
}

url() { echo "http://127.0.0.1:${http_ports[$1]}"; }

# node_cmd I: sets the array cmd to node I's command line.
node_cmd() {
  local i=$1 s
  cmd=("$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx"$HEAP"
    -jar "$CAIRN_JAR" start --node-id "$i" --http-port "${http_ports[$i]}" --data-dir "$cl_dir/node$i")
  (( single )) || cmd+=(--set "cluster.members=$members")
  for s in "${cl_sets[@]}"; do cmd+=(--set "$s"); done
}

print_cmds() {
  local i cmd
  for i in $( ((single)) && echo 1 || echo 1 2 3); do
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

# kill_node I SIGNAL: stops node I with that signal and waits for it to be gone.
kill_node() {
  local pid=${node_pid[$1]}
  kill -"$2" "$pid" 2>/dev/null || true
  if [[ $2 != KILL ]]; then
    stop_pid "$pid"
  fi
  wait "$pid" 2>/dev/null || true
  unset "node_pid[$1]"
}

cluster_stop() {
  local i
  for i in "${!node_pid[@]}"; do stop_pid "${node_pid[$i]}"; done
  for i in "${!node_pid[@]}"; do wait "${node_pid[$i]}" 2>/dev/null || true; done
  node_pid=()
  if [[ "$KEEP_LOGS" == 1 ]]; then
    mkdir -p "$OUT_DIR/logs"
    for i in 1 2 3; do
      [[ -f "$cl_dir/node$i.log" ]] && cp "$cl_dir/node$i.log" "$OUT_DIR/logs/$1-node$i.log"
    done
  fi
  rm -rf "$cl_dir"
}

get() { curl -sf --max-time 5 "$(url "$1")$2"; }
post() { curl -sf --max-time 5 -X POST "$(url "$1")$2"; }

# "1:true 2:true 3:true" as node $1 sees the cluster (mixed: its core shards disagree for now).
cluster_view() {
  get "$1" /admin/cluster | jq -r '[.members[] | "\(.id):\(if .alive then "true" elif (.down // true) then "false" else "mixed" end)"] | join(" ")'
}
all_alive() {
  local i
  for i in 1 2 3; do
    [[ "$(cluster_view "$i")" == "1:true 2:true 3:true" ]] || return 1
  done
}
# seen_down NODE: every other node reports NODE alive:false.
seen_down() {
  local i
  for i in 1 2 3; do
    [[ $i == "$1" ]] && continue
    [[ " $(cluster_view "$i") " == *" $1:false "* ]] || return 1
  done
}
healthy() { command curl -sf --max-time 2 "$(url "$1")/health" >/dev/null; }

start_cluster() {
  local t0=$SECONDS i
  for i in 1 2 3; do start_node "$i"; done
  if ! wait_until 120 all_alive; then
    for i in 1 2 3; do echo "--- node$i log"; tail -20 "$cl_dir/node$i.log"; done
    return 1
  fi
  echo "## $(date -u +%T) cluster formed in $((SECONDS - t0)) s"
}

# repair_json NODE: node's /admin/repair (totals only: no per-partition list needed).
repair_json() { get "$1" /admin/repair; }
status_stats() { get "$1" /admin/status | jq -c '.cluster.stats // .cluster // {}'; }
queue_empty() { [[ $(repair_json "$1" | jq .repairsQueued) == 0 ]]; }
hints_field() { get "$1" /admin/cluster | jq -r ".stats.$2"; }

all_urls() {
  local i
  for i in "$@"; do printf -- '--url %s ' "$(url "$i")"; done
}

# prefill LABEL KEYS VALUE_SIZE QUERY NODE...: cairn bench --prefill over those nodes.
prefill() {
  local label=$1 keys=$2 size=$3 query=$4
  shift 4
  local args
  read -r -a args <<<"$(all_urls "$@")"
  args+=(--connections 64 --threads "$BENCH_THREADS" --keys "$keys" --value-size "$size" --prefill
    --mix put=1 --warmup 0s --duration 1s --json "$json_dir/$label-prefill.json")
  [[ -n "$query" ]] && args+=(--query "$query")
  echo "## $(date -u +%T) prefill: ${bench_cmd[*]} ${args[*]}"
  local t0 t1
  t0=$(date +%s.%N)
  "${bench_cmd[@]}" "${args[@]}" >"$cl_dir/prefill.txt" 2>&1 || { cat "$cl_dir/prefill.txt"; echo "prefill failed"; return 1; }
  t1=$(date +%s.%N)
  grep -E '^prefill done' "$cl_dir/prefill.txt" | sed 's/^/## /'
  echo "## prefill + 1 s of puts took $(secs "$t0" "$t1") s"
}

# batch_load KEYS VALUE_SIZE QUERY NODE...: the same keys (bench-0 ...) through POST /kv/_batch,
# LOAD_BATCH puts per request over LOAD_CONNECTIONS connections: about 4x faster than one PUT per
# key on this machine, which is what makes a million keys affordable.
batch_load() {
  local keys=$1 size=$2 query=$3 urls="" i
  shift 3
  for i in "$@"; do urls+="${urls:+,}$(url "$i")"; done
  echo "## $(date -u +%T) load: POST /kv/_batch${query:+?$query} with $LOAD_BATCH puts each (keys bench-0..bench-$((keys - 1)), $size B values), $LOAD_CONNECTIONS connections over nodes $*"
  python3 "$here/load.py" "$urls" "$keys" "$size" "$LOAD_BATCH" "$LOAD_CONNECTIONS" "${query:+?$query}" | sed 's/^/## /'
  return "${PIPESTATUS[0]}"
}


summary=()

# ------------------------------------------------------------------ pollers (one python process each,
# so polling does not take much of the 2 cores from what it measures)

# ae_py pass NODE_ID NODE_URL PEER_ID QUERY TIMEOUT OUT_PREFIX [KEY...]: POST /admin/repair QUERY
# on the node, then polls its /admin/repair every 50 ms until no round is queued or running (twice,
# 100 ms apart, with the same totals) and every KEY has a live copy on the node with node PEER_ID's
# etag (GET /admin/keys). Prints one JSON line: the 202 answer, seconds, the totals' deltas.
# ae_py converge URL3 URL1 URL2 KEYS TIMEOUT SAMPLES BASE1 BASE2: POST /admin/repair on node 3
# (counting from nodes 1 and 2's sinceStart totals BASE1, BASE2 and node 3's since its start), then every
# second node 3's /admin/repair and /admin/cluster and nodes 1 and 2's totals, until node 3 says
# settled (every pair exchanged since its start, last rounds clean, nothing queued); one line per
# sample into SAMPLES, a JSON summary on stdout.
ae_py() {
  python3 - "$@" <<'PY'
import json, os, sys, time, urllib.request
tok = os.environ.get("CAIRN_TOKEN")
def call(url, method="GET"):
    req = urllib.request.Request(url, method=method, headers={"Authorization": "Bearer " + tok} if tok else {})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.load(r)
def delta(a, b):
    return {k: b[k] - a[k] for k in b}
cmd = sys.argv[1]
if cmd == "pass":
    node, url, peer, query, timeout, out = int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5], float(sys.argv[6]), sys.argv[7]
    keys = sys.argv[8:]
    seen = set()
    def have(k):
        if k in seen:
            return True
        reps = {r["id"]: r for r in call(url + "/admin/keys/" + k)["replicas"]}
        me, ref = reps.get(node), reps.get(peer)
        if me and ref and me.get("state") == "live" and me.get("etag") == ref.get("etag"):
            seen.add(k)
            return True
        return False
    before = call(url + "/admin/repair")
    t0 = time.monotonic()
    resp = call(url + "/admin/repair" + query, "POST")
    timed_out = False
    while True:
        a = call(url + "/admin/repair")
        ta = time.monotonic()
        if a["repairsQueued"] == 0 and all(have(k) for k in keys):
            time.sleep(0.1)
            b = call(url + "/admin/repair")
            if b["repairsQueued"] == 0 and b["sinceStart"] == a["sinceStart"]:
                break
        if ta - t0 > timeout:
            timed_out = True
            b = a
            break
        time.sleep(0.05)
    json.dump(before, open(out + "-before.json", "w"))
    json.dump(b, open(out + "-after.json", "w"))
    print(json.dumps({"answer": resp, "seconds": round(ta - t0, 2), "timedOut": timed_out,
                      "delta": delta(before["sinceStart"], b["sinceStart"]),
                      "after": {k: b[k] for k in ("differingKeys", "differingSegments", "partitionsDiffering", "partitionsNeverExchanged", "bytesToRepair")}}))
elif cmd == "converge":
    u3, u1, u2, n, timeout, samples = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6]), sys.argv[7]
    base = {u1: json.loads(sys.argv[8]), u2: json.loads(sys.argv[9])}
    base[u3] = {k: 0 for k in base[u1]}
    t0 = time.monotonic()
    resp = call(u3 + "/admin/repair", "POST")
    out = {"answer": resp, "moved": None, "settled": None, "lastMove": None, "firstAlive": None}
    last_all = -1
    with open(samples, "w") as f:
        while True:
            t = time.monotonic() - t0
            r3 = call(u3 + "/admin/repair")
            d = {u3: delta(base[u3], r3["sinceStart"])}
            for u in (u1, u2):
                d[u] = delta(base[u], call(u + "/admin/repair")["sinceStart"])
            if out["firstAlive"] is None:
                try:
                    if all(m["alive"] for m in call(u3 + "/admin/cluster")["members"]):
                        out["firstAlive"] = round(t, 1)
                except Exception:
                    pass
            to3 = d[u3]["keysFetched"] + d[u1]["keysPushed"] + d[u2]["keysPushed"]
            moved_all = sum(x["keysFetched"] + x["keysPushed"] for x in d.values())
            value_bytes = sum(x["bytesMoved"] for x in d.values())
            exchanged = sum(x["bytesExchanged"] for x in d.values())
            peer_down = sum(1 for p in r3.get("partitionsShown", []) if any("peer down" in e for e in p["errors"]))
            out["maxPeerDown"] = max(out.get("maxPeerDown", 0), peer_down)
            f.write("+%5.1fs n3: queued=%d rounds=%d clean=%d failed=%d fetched=%d differingKeys=%d partitionsDiffering=%d neverExchanged=%d peerDownErrors=%d | pushed n1=%d n2=%d | all nodes: bytesMoved=%d bytesExchanged=%d\n" % (
                t, r3["repairsQueued"], d[u3]["rounds"], d[u3]["roundsClean"], d[u3]["roundsFailed"], d[u3]["keysFetched"], r3["differingKeys"],
                r3["partitionsDiffering"], r3["partitionsNeverExchanged"], peer_down, d[u1]["keysPushed"], d[u2]["keysPushed"], value_bytes, exchanged))
            f.flush()
            if moved_all != last_all:
                out["lastMove"] = round(t, 1)
                last_all = moved_all
            if out["moved"] is None and to3 >= n and r3["differingKeys"] == 0:
                out["moved"] = round(t, 1)
                out["bytesAtMoved"] = value_bytes
            out.update({"toNode3": to3, "movedAll": moved_all, "fetched3": d[u3]["keysFetched"], "pushed1": d[u1]["keysPushed"],
                        "pushed2": d[u2]["keysPushed"], "bytesMoved": value_bytes, "bytesExchanged": exchanged, "rounds3": d[u3]["rounds"],
                        "roundsFailed3": d[u3]["roundsFailed"]})
            if r3["partitionsNeverExchanged"] == 0 and r3["partitionsDiffering"] == 0 and r3["differingKeys"] == 0 and r3["repairsQueued"] == 0:
                out["settled"] = round(t, 1)
                break
            if t > timeout:
                out["timedOut"] = True
                break
            time.sleep(max(0.0, 1.0 - (time.monotonic() - t0 - t)))
    print(json.dumps(out))
PY
}

# ================================================================== part 1: write cost

# part1_run N MODE: MODE is on or off, optionally followed by +key=value settings for that run
# (e.g. on+antiEntropy.cycle=7d).
part1_run() {
  local n=$1 mode=$2 sets=() label
  label="p1-$1-ae-$(tr -c 'a-zA-Z0-9=.\n-' '_' <<<"$mode")"
  [[ ${mode%%+*} == off ]] && sets+=(antiEntropy.enabled=false)
  local extra=${mode#"${mode%%+*}"}
  IFS=+ read -r -a more <<<"${extra#+}"
  [[ -n "$extra" ]] && sets+=("${more[@]}")
  echo
  echo "### part 1, run $n: anti-entropy $mode"
  cpu_nodes="?" cpu_other="?"
  cluster_init "${sets[@]}"
  print_cmds
  start_cluster || return 1
  prefill "$label" "$P1_KEYS" "$P1_VALUE_SIZE" "" 1 2 3 || return 1
  local urls
  read -r -a urls <<<"$(all_urls 1 2 3)"
  local common=("${urls[@]}" --connections "$P1_CONNECTIONS" --threads "$BENCH_THREADS" --keys "$P1_KEYS"
    --value-size "$P1_VALUE_SIZE" --mix put=100)
  echo "## $(date -u +%T) JIT warm-up (unrecorded): ${bench_cmd[*]} ${common[*]} --warmup 0s --duration $P1_JIT_WARMUP"
  "${bench_cmd[@]}" "${common[@]}" --warmup 0s --duration "$P1_JIT_WARMUP" | grep -E '^total' | sed 's/^/## warm-up: /' || true
  local args=("${common[@]}" --warmup "$P1_WARMUP" --duration "$P1_DURATION" --json "$json_dir/$label.json")
  echo "## $(date -u +%T) measured: ${bench_cmd[*]} ${args[*]}"
  load_note
  local rc=0
  cpu_mark
  "${bench_cmd[@]}" "${args[@]}" >"$cl_dir/bench.txt" 2>&1 || rc=$?
  grep -vE '^\[' "$cl_dir/bench.txt" | grep -v '^ *$' | sed 's/^/  /' || true
  echo "## cairn bench exit code $rc"
  cpu_report "the measured run (with its warm-up)"
  local i
  for i in 1 2 3; do
    echo "## node$i repair: $(repair_json "$i" | jq -c '{enabled, partitionsNeverExchanged, sinceStart, scrub: {recordsChecked: .scrub.recordsChecked, passes: .scrub.passes, treesReady: .scrub.treesReady}}')"
  done
  summary+=("$(jq -r --arg n "$n" --arg m "$mode" '
    "\($n) \($m) \(.total.throughputOpsPerSecond) \(.total.latencyMillis.p50) \(.total.latencyMillis.p99) \(.total.errors + .total.shed)"' \
    "$json_dir/$label.json" 2>/dev/null || echo "$n $mode ? ? ? ?") $cpu_nodes $cpu_other")
  return "$rc"
}

part1() {
  echo
  echo "################ part 1: write cost of anti-entropy (put=100, ${P1_VALUE_SIZE} B values, $P1_CONNECTIONS connections over 3 nodes, $P1_KEYS keys, runs: $P1_RUNS)"
  summary=()
  local n=0 mode
  for mode in $P1_RUNS; do
    n=$((n + 1))
    guarded "p1-$n-ae-$mode" part1_run "$n" "$mode"
  done
  echo
  echo "## part 1 summary: put=100, ${P1_VALUE_SIZE} B, $P1_CONNECTIONS connections, W=2 of N=3, $P1_DURATION measured per run;"
  echo "## node cpu = cores the three nodes used over the run and its warm-up, us/put = that per put/s (all nodes' CPU per put)"
  printf '%s\n' "${summary[@]}" | python3 -c '
import sys
rows = [l.split() for l in sys.stdin if l.strip()]
print("%-4s %-4s %10s %9s %9s %7s %10s %12s %10s" % ("run", "ae", "ops/s", "p50 ms", "p99 ms", "errors", "node cpu", "us/put", "other cpu"))
by = {}
for n, m, ops, p50, p99, err, ncpu, ocpu in rows:
    bad = ops == "?" or ocpu == "?" or float(ocpu) > 0.15
    per = "?" if ops == "?" or ncpu == "?" else "%.0f" % (float(ncpu) / float(ops) * 1e6)
    print("%-4s %-4s %10s %9s %9s %7s %10s %12s %10s%s" % (n, m, ops if ops == "?" else "%.0f" % float(ops),
        p50 if p50 == "?" else "%.3f" % float(p50), p99 if p99 == "?" else "%.3f" % float(p99), err, ncpu, per, ocpu,
        "  disturbed (left out of the means)" if bad else ""))
    if not bad:
        by.setdefault(m, []).append((float(ops), float(p50), float(p99), float(ncpu) / float(ops) * 1e6))
def mean(xs, i): return sum(x[i] for x in xs) / len(xs)
for g in sorted(by, key=lambda g: (g != "on", g)):
    if g == "off" or not by.get("off"):
        continue
    print("means, %s (%d runs) vs off (%d runs):" % (g, len(by[g]), len(by["off"])))
    for name, i in (("ops/s", 0), ("p50 ms", 1), ("p99 ms", 2), ("us/put", 3)):
        on, off = mean(by[g], i), mean(by["off"], i)
        print("  %-7s %10.3f  off %10.3f  %+6.1f %%" % (name, on, off, 100 * (on - off) / off))
for g in sorted(by):
    xs = [x[0] for x in by[g]]
    if len(xs) > 1:
        print("ops/s spread, %s: %.0f .. %.0f (%.1f %% of the mean)" % (g, min(xs), max(xs), 100 * (max(xs) - min(xs)) / mean(by[g], 0)))
'
}

# ================================================================== part 2: bytes to find a few differing keys

diff_key() { echo "ae-diff-$1"; }

# forced_pass NODE LABEL CHECK: POST /admin/repair?namespace=default on NODE, then poll its
# /admin/repair until no round is queued or running (repairsQueued 0, twice 0.3 s apart with the
# same totals) and CHECK (a command) succeeds; prints the totals' deltas and the time.
forced_pass() {
  local node=$1 label=$2 w0=$SECONDS res p1 p2 keys=()
  shift 2
  keys=("$@")
  # A round still running (a scheduled one) would add its bytes to this pass's: wait it out.
  wait_until 60 queue_empty "$node" || echo "## node $node still has a round running after 60 s"
  (( SECONDS - w0 > 1 )) && echo "## $(date -u +%T) waited $((SECONDS - w0)) s for node $node's running round to end before the pass"
  p1=$(repair_json 1 | jq .sinceStart.keysPushed)
  p2=$(repair_json 2 | jq .sinceStart.keysPushed)
  echo "## $(date -u +%T) $label: curl -X POST $(url "$node")/admin/repair?namespace=default, then GET /admin/repair every 50 ms until repairsQueued is 0 (twice, 100 ms apart, same totals)${keys[0]:+ and GET /admin/keys/KEY shows node $node's copy live with node 1's etag for all ${#keys[@]} keys}"
  res=$(ae_py pass "$node" "$(url "$node")" 1 "?namespace=default" "$P2_TIMEOUT" "$json_dir/$label" "${keys[@]}") || { echo "## $label failed"; return 1; }
  p1=$(( $(repair_json 1 | jq .sinceStart.keysPushed) - p1 ))
  p2=$(( $(repair_json 2 | jq .sinceStart.keysPushed) - p2 ))
  jq -r --arg p1 "$p1" --arg p2 "$p2" '"## answer \(.answer | tojson); took \(.seconds) s\(if .timedOut then " (TIMED OUT)" else "" end)\n## node totals: \(.delta | to_entries | map("\(.key)=+\(.value)") | join(" ")); meanwhile pushed by node 1: \($p1), node 2: \($p2)\n## after: \(.after | tojson)"' <<<"$res"
  summary+=("$(jq -r --arg l "$label" --arg p "$((p1 + p2))" '"\($l) \(.answer.roundsQueued) \(.delta.rounds) \(.delta.roundsClean) \(.delta.roundsFailed) \(.delta.keysFetched) \(.delta.keysPushed) \($p) \(.delta.bytesExchanged) \(.seconds)"' <<<"$res")")
}

hints_dropped_sum() {
  local s=0 i v
  for i in "$@"; do v=$(hints_field "$i" hintsDropped); s=$((s + v)); done
  echo "$s"
}
hints_pending_sum() {
  local s=0 i v
  for i in "$@"; do v=$(hints_field "$i" hintsPending); s=$((s + v)); done
  echo "$s"
}
# hints_gone NODES...: no hint pending on those nodes.
hints_gone() { [[ $(hints_pending_sum "$@") == 0 ]]; }

trees_ready() {
  local i
  for i in 1 2 3; do
    [[ $(repair_json "$i" | jq -r .scrub.treesReady) == true ]] || return 1
  done
}

part2_body() {
  cluster_init cluster.hintWindow=1s ttl.purgeGrace=1h antiEntropy.cycle=1h cluster.faultInjection=true
  print_cmds
  start_cluster || return 1
  batch_load "$P2_KEYS" "$P2_VALUE_SIZE" "" 1 2 3 || return 1
  wait_until 120 trees_ready || echo "## trees not all ready after 120 s"
  echo "## node3 before any forced pass: $(repair_json 3 | jq -c '{partitions, partitionsNeverExchanged, differingKeys, repairsQueued, sinceStart}')"
  echo "## hints after the prefill: stored=$(hints_field 1 hintsStored)/$(hints_field 2 hintsStored)/$(hints_field 3 hintsStored) dropped=$(hints_dropped_sum 1 2 3) (nodes 1/2/3)"
  echo
  echo "## pass 0: a forced pass right after the prefill (reconciles whatever the prefill left; nothing should differ)"
  forced_pass 3 p2-pass0-after-prefill

  echo
  local dropped0 i k
  dropped0=$(hints_dropped_sum 1 2 3)
  echo "## $(date -u +%T) cut: node3 block=1,2 -> $(post 3 '/admin/faults?block=1,2'); node1 block=3 -> $(post 1 '/admin/faults?block=3'); node2 block=3 -> $(post 2 '/admin/faults?block=3')"
  for k in $(seq 1 "$P2_DIFF_KEYS"); do
    echo "## PUT $(url 1)/kv/$(diff_key "$k")?w=2 -> $(curl -s -o /dev/null -D - -X PUT --data-binary "value-$k" "$(url 1)/kv/$(diff_key "$k")?w=2" \
      | tr -d '\r' | grep -iE '^(HTTP/|cairn-acks)' | tr '\n' ' ')"
  done
  local t0=$SECONDS
  dropped_enough() { (( $(hints_dropped_sum 1 2 3) >= dropped0 + P2_DIFF_KEYS )) && hints_gone 1 2; }
  if wait_until 60 dropped_enough; then
    echo "## $(date -u +%T) hints dropped after $((SECONDS - t0)) s: hintsDropped $dropped0 -> $(hints_dropped_sum 1 2 3) (sum of all nodes), pending on 1+2: $(hints_pending_sum 1 2)"
  else
    echo "## hints NOT all dropped after 60 s: hintsDropped $dropped0 -> $(hints_dropped_sum 1 2 3), pending on 1+2: $(hints_pending_sum 1 2)"
  fi
  sleep 2
  echo "## $(date -u +%T) heal: $(post 1 '/admin/faults?block=') $(post 2 '/admin/faults?block=') $(post 3 '/admin/faults?block=')"
  t0=$SECONDS
  wait_until 60 all_alive || echo "## not all alive after 60 s: $(cluster_view 1) / $(cluster_view 2) / $(cluster_view 3)"
  echo "## $(date -u +%T) all members alive in every node's view after $((SECONDS - t0)) s"
  echo "## $(date -u +%T) node 3 right after the heal: $(repair_json 3 | jq -c '{repairsQueued, sinceStart, errors: [.partitionsShown[] | select(.errors | length > 0) | "\(.namespace)/\(.partition): \(.errors | join(", "))"]}')"
  # Rounds node 3 started while cut off wait for their deadline (max(10 s, 10 x cluster.requestTimeout))
  # before its next round can start; the pass is measured from when they have ended.
  t0=$SECONDS
  wait_until 60 queue_empty 3 || echo "## node 3 still has rounds running after 60 s"
  echo "## $(date -u +%T) node 3's rounds running since the cut ended after $((SECONDS - t0)) s: $(repair_json 3 | jq -c '{repairsQueued, sinceStart, errors: [.partitionsShown[] | select(.errors | length > 0) | "\(.namespace)/\(.partition): \(.errors | join(", "))"]}')"
  echo "## $(diff_key 1) as node 3 shows it: $(get 3 "/admin/keys/$(diff_key 1)" | jq -c '[.replicas[] | {id, state, etag}]')"
  local missing=0
  for k in $(seq 1 "$P2_DIFF_KEYS"); do
    [[ $(get 3 "/admin/keys/$(diff_key "$k")" | jq -r '.replicas[] | select(.id == 3) | .state') == live ]] || missing=$((missing + 1))
  done
  echo "## $(date -u +%T) new keys without a live copy on node 3 before the repair: $missing of $P2_DIFF_KEYS"
  echo
  echo "## pass 1: forced pass on node 3 with $missing keys missing there"
  local keys=()
  for k in $(seq 1 "$P2_DIFF_KEYS"); do keys+=("$(diff_key "$k")"); done
  forced_pass 3 p2-pass1-differing "${keys[@]}"
  echo "## $(diff_key 1) as node 3 shows it after: $(get 3 "/admin/keys/$(diff_key 1)" | jq -c '[.replicas[] | {id, state, etag}]')"
  echo
  echo "## pass 2: forced pass on node 3, nothing differs"
  forced_pass 3 p2-pass2-clean
  echo "## node 1 and 2 repair totals (their scheduled rounds, cycle 1h): $(repair_json 1 | jq -c .sinceStart) $(repair_json 2 | jq -c .sinceStart)"
}

part2() {
  echo
  echo "################ part 2: bytes exchanged to find $P2_DIFF_KEYS differing keys among $P2_KEYS"
  summary=()
  guarded p2 part2_body
  echo
  echo "## part 2 summary: node 3's forced passes over namespace default ($P2_KEYS keys of $P2_VALUE_SIZE B; rounds = every (partition, peer) pair)"
  echo "## (fetched/pushed: by node 3's rounds; peers_pushed: by nodes 1 and 2's scheduled rounds meanwhile)"
  printf '%-24s %7s %7s %6s %7s %8s %7s %13s %15s %8s\n' pass queued rounds clean failed fetched pushed peers_pushed bytesExchanged seconds
  local row
  for row in "${summary[@]}"; do printf '%-24s %7s %7s %6s %7s %8s %7s %13s %15s %8s\n' $row; done
}

# ================================================================== part 3: converging a replica that missed many keys

part3_run() {
  local budget=${1%@*} when=health label="p3-budget-${1/@/-}" sets=(cluster.hintWindow=1s ttl.purgeGrace=1h)
  [[ $1 == *@alive ]] && when=alive
  [[ $budget != default ]] && sets+=("antiEntropy.maxBytesPerSecond=$budget")
  echo
  echo "### part 3: node 3 misses $P3_KEYS keys; antiEntropy.maxBytesPerSecond=$budget; POST /admin/repair once node 3 $([[ $when == alive ]] && echo "sees its peers alive" || echo "answers /health")"
  cluster_init "${sets[@]}"
  print_cmds
  start_cluster || return 1
  echo "## $(date -u +%T) kill -$P3_SIGNAL node 3 (pid ${node_pid[3]})"
  kill_node 3 "$P3_SIGNAL"
  local t0=$SECONDS
  wait_until 60 seen_down 3 || echo "## node 3 not seen down after 60 s"
  echo "## $(date -u +%T) nodes 1 and 2 see node 3 down after $((SECONDS - t0)) s"
  batch_load "$P3_KEYS" "$P3_VALUE_SIZE" "w=2" 1 2 || return 1
  t0=$SECONDS
  wait_until 120 hints_gone 1 2 || echo "## hints still pending after 120 s: $(hints_pending_sum 1 2)"
  echo "## $(date -u +%T) hints gone after $((SECONDS - t0)) s: stored $(hints_field 1 hintsStored)+$(hints_field 2 hintsStored), dropped $(hints_field 1 hintsDropped)+$(hints_field 2 hintsDropped), replayed $(hints_field 1 hintsReplayed)+$(hints_field 2 hintsReplayed) (nodes 1+2)"
  local base1 base2
  base1=$(repair_json 1 | jq -c .sinceStart)
  base2=$(repair_json 2 | jq -c .sinceStart)
  echo "## nodes 1, 2 repair totals before node 3 is back: $base1 $base2"

  local start_t
  start_t=$(now)
  start_node 3
  wait_until 60 healthy 3 || echo "## node 3 not healthy after 60 s"
  echo "## $(date -u +%T) node 3 restarted (same data dir, ports, settings), /health answers after $(secs "$start_t" "$(now)") s; it sees: $(cluster_view 3)"
  if [[ $when == alive ]]; then
    wait_until 60 all_alive || echo "## not all alive after 60 s"
    echo "## $(date -u +%T) every node sees every other alive $(secs "$start_t" "$(now)") s after the restart"
  fi
  # One python poller POSTs /admin/repair on node 3 and samples every second (see ae_py); times are
  # from the POST. "moved": records moved to node 3 (its keysFetched + nodes 1 and 2's keysPushed)
  # >= P3_KEYS with node 3's differingKeys 0 (a key both fetched and pushed would count twice);
  # "last move": the first sample at which the records moved by all nodes reached their final
  # count (the verifying pass below checks that nothing moves after it); "settled": node 3's own
  # view says done (every pair exchanged since its start, the last round of each clean, nothing queued).
  local samples="$json_dir/$label-samples.txt" res
  echo "## $(date -u +%T) curl -X POST $(url 3)/admin/repair (node 3 sees: $(cluster_view 3)), then sampling every second"
  cpu_mark
  res=$(ae_py converge "$(url 3)" "$(url 1)" "$(url 2)" "$P3_KEYS" "$P3_TIMEOUT" "$samples" "$base1" "$base2") || { echo "## the poller failed"; return 1; }
  cpu_report "the convergence (until settled)"
  echo "$res" >"$json_dir/$label-converge.json"
  sed 's/^/##   /' "$samples" | awk 'NR <= 12 || NR % 5 == 0 {print} END {print}' | uniq
  echo "## (every sample in $samples)"
  jq -r '"## answer: \(.answer | tojson); node 3 saw nodes 1 and 2 alive at +\(.firstAlive // "-") s\(if .timedOut then "; TIMED OUT" else "" end)",
    "## moved at +\(.moved // "-") s (bytesMoved \(.bytesAtMoved // "-")); last record moved by the sample at +\(.lastMove // "-") s; settled at +\(.settled // "-") s",
    "## records moved to node 3: \(.toNode3) (node 3 fetched \(.fetched3), node 1 pushed \(.pushed1), node 2 pushed \(.pushed2)); all nodes until settled: bytesMoved \(.bytesMoved) (values), bytesExchanged \(.bytesExchanged); node 3 started \(.rounds3) rounds, \(.roundsFailed3) failed; at most \(.maxPeerDown) partitions showed a \"peer down\" error (a queued round skipped: the peer was not yet seen alive)"' <<<"$res"
  # Spot checks: a few keys across the range, node 3's copy against node 1's.
  local k bad=0 checked=0
  for k in 0 1 2 $((P3_KEYS / 7)) $((P3_KEYS / 3)) $((P3_KEYS / 2)) $((P3_KEYS - 3)) $((P3_KEYS - 2)) $((P3_KEYS - 1)) $((RANDOM % P3_KEYS)); do
    checked=$((checked + 1))
    jq -e '(.replicas | map(select(.id == 3))[0]) as $n3 | (.replicas | map(select(.id == 1))[0]) as $n1
           | $n3.state == "live" and $n3.etag == $n1.etag' <<<"$(get 3 "/admin/keys/bench-$k")" >/dev/null || { bad=$((bad + 1)); echo "## spot check bench-$k: $(get 3 "/admin/keys/bench-$k" | jq -c '[.replicas[] | {id, state, etag}]')"; }
  done
  echo "## spot checks: $((checked - bad)) of $checked keys live on node 3 with node 1's etag"
  # Verify: one more forced pass on node 3 over every namespace; nothing should move, on any node.
  local vb1 vb2 vres vmoved
  vb1=$(repair_json 1 | jq .sinceStart.keysPushed)
  vb2=$(repair_json 2 | jq .sinceStart.keysPushed)
  vres=$(ae_py pass 3 "$(url 3)" 1 "" 120 "$json_dir/$label-verify") || { echo "## the verifying pass failed"; return 1; }
  vmoved=$(jq --arg p1 "$(( $(repair_json 1 | jq .sinceStart.keysPushed) - vb1 ))" --arg p2 "$(( $(repair_json 2 | jq .sinceStart.keysPushed) - vb2 ))" \
    '.delta.keysFetched + .delta.keysPushed + ($p1 | tonumber) + ($p2 | tonumber)' <<<"$vres")
  echo "## verifying pass (POST /admin/repair, every namespace): $(jq -c '{answer, seconds, delta}' <<<"$vres"); records moved by any node meanwhile: $vmoved"
  local rate
  rate=$(jq -r 'if .lastMove and .lastMove > 0 then "\(.bytesMoved / 1048576 / .lastMove * 100 | round / 100)" else "-" end' <<<"$res")
  summary+=("$budget $when $(jq -r '"\(.moved // "-") \(.lastMove // "-") \(.settled // "-") \(.toNode3) \(.bytesMoved) \(.bytesExchanged)"' <<<"$res") $rate $vmoved $((checked - bad))/$checked")
}

part3() {
  echo
  echo "################ part 3: time to converge a replica that missed $P3_KEYS keys of $P3_VALUE_SIZE B"
  summary=()
  local b
  for b in $P3_BUDGETS; do guarded "p3-budget-${b/@/-}" part3_run "$b"; done
  echo
  echo "## part 3 summary: seconds from POST /admin/repair on the restarted node 3 (post: once it answers /health, or"
  echo "## once it sees its peers alive) to 'moved' (records moved to node 3 >= $P3_KEYS, its differingKeys 0), to the"
  echo "## sample by which the last record had moved ('last'; 1 s resolution) and to 'settled' (node 3's /admin/repair: every"
  echo "## pair exchanged, last rounds clean). records = moved to node 3; bytes_moved = value bytes moved by all nodes;"
  echo "## exchanged = bytesExchanged of all nodes' rounds; MiB/s = bytes_moved / last; verify = records a forced pass"
  echo "## on node 3 afterwards moved (0 = converged); spot = keys checked with /admin/keys that node 3 had"
  printf '%-10s %-7s %7s %7s %8s %8s %12s %12s %7s %7s %6s\n' budget post moved last settled records bytes_moved exchanged MiB/s verify spot
  local row
  for row in "${summary[@]}"; do printf '%-10s %-7s %7s %7s %8s %8s %12s %12s %7s %7s %6s\n' $row; done
}

# ================================================================== part 4: scrub rate

metric() { get 1 /metrics | awk -v m="$1" '$1 == m {print $2}'; }

part4_run() {
  local rate=$1 label="p4-scrub-$1" sets=()
  [[ $rate != default ]] && sets+=("antiEntropy.scrubRate=$rate")
  echo
  echo "### part 4: one node, $P4_KEYS records of $P4_VALUE_SIZE B; antiEntropy.scrubRate=$rate"
  single_init "${sets[@]}"
  print_cmds
  start_node 1
  wait_until 60 healthy 1 || { tail -20 "$cl_dir/node1.log"; return 1; }
  wait_until 10 test -r "$cl_dir/node1/auth/admin.token"
  cairn_token "$cl_dir/node1"
  batch_load "$P4_KEYS" "$P4_VALUE_SIZE" "" 1 || return 1
  local pid=${node_pid[1]} hz i b0 r0 c0 t0 b1 r1 c1 t1 samples="$json_dir/$label-samples.txt"
  hz=$(getconf CLK_TCK)
  echo "## $(date -u +%T) sampling every $P4_EVERY s, $P4_SAMPLES intervals:"
  load_note
  b0=$(metric cairn_scrub_bytes_total); r0=$(metric cairn_scrub_records_total); c0=$(proc_ticks "$pid"); t0=$(now)
  local first_b=$b0 first_r=$r0 first_c=$c0 first_t=$t0
  cpu_mark
  : >"$samples"
  for i in $(seq 1 "$P4_SAMPLES"); do
    sleep "$P4_EVERY"
    b1=$(metric cairn_scrub_bytes_total); r1=$(metric cairn_scrub_records_total); c1=$(proc_ticks "$pid"); t1=$(now)
    python3 -c '
import sys
b0, r0, c0, t0, b1, r1, c1, t1, hz, i = map(float, sys.argv[1:])
dt = t1 - t0
print("+%2d: bytes_total=%.0f records_total=%.0f  %.2f MiB/s  %.0f records/s  node cpu %.2f cores" % (i, b1, r1, (b1 - b0) / dt / 1048576, (r1 - r0) / dt, (c1 - c0) / hz / dt))
' "$b0" "$r0" "$c0" "$t0" "$b1" "$r1" "$c1" "$t1" "$hz" "$i" | tee -a "$samples" | sed 's/^/##   /'
    b0=$b1; r0=$r1; c0=$c1; t0=$t1
  done
  cpu_report "the sampling"
  echo "## passes: $(metric cairn_scrub_passes_total), /admin/status repair.scrub: $(get 1 /admin/status | jq -c '.repair.scrub // .repair')"
  echo "## ps: $(ps -o pid=,pcpu=,rss=,cputime= -p "$pid")"
  local line
  line=$(python3 -c '
import sys
b0, r0, c0, t0, b1, r1, c1, t1, hz = map(float, sys.argv[1:])
dt = t1 - t0
print("%.2f %.0f %.2f %.0f" % ((b1 - b0) / dt / 1048576, (r1 - r0) / dt, (c1 - c0) / hz / dt, dt))
' "$first_b" "$first_r" "$first_c" "$first_t" "$b1" "$r1" "$c1" "$t1" "$hz")
  summary+=("$rate $line $cpu_other")
}

part4() {
  echo
  echo "################ part 4: scrub rate on one node ($P4_KEYS records of $P4_VALUE_SIZE B)"
  summary=()
  local r
  for r in $P4_RATES; do guarded "p4-scrub-$r" part4_run "$r"; done
  echo
  echo "## part 4 summary: over $((P4_EVERY * P4_SAMPLES)) s right after the prefill (node cpu: cores the node's process used, all its threads)"
  printf '%-12s %10s %10s %10s %8s %10s\n' scrubRate MiB/s records/s node_cpu seconds other_cpu
  local row
  for row in "${summary[@]}"; do printf '%-12s %10s %10s %10s %8s %10s\n' $row; done
}

# ================================================================== main

run() {
  echo "# bench/anti-entropy.sh, parts: $PARTS"
  machine_info
  echo "# $("$JAVA" -jar "$CAIRN_JAR" --version) ($CAIRN_JAR), $("$JAVA" -version 2>&1 | head -1)"
  echo "# heap $HEAP per node, bench threads $BENCH_THREADS; JSON and samples: $json_dir"
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
