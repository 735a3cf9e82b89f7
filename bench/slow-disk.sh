#!/usr/bin/env bash
# Heartbeats under a slow disk: does a node whose disk is slow still heartbeat on time, as its
# peers see it? Starts a three-node Cairn cluster (N=3, zones zone-a/b/c, free loopback ports, fresh
# data directories removed on exit, cluster.faultInjection on), prefills KEYS keys, warms the JITs
# up with JIT_WARMUP of the same load, then runs a
# PUT/GET load (`cairn bench`, one --url per node, MIX) for DURATION; DELAY_AFTER seconds
# into the load, node SLOW_NODE's disk is slowed by DISK_DELAY ms per storage operation
# (POST /admin/faults?diskDelay=...). At the end it reads, from every other node's /metrics, the
# heartbeat intervals it recorded for each peer (cairn_cluster_heartbeat_interval_seconds: the
# quantile gauges, max, count, sum and the SLO buckets 0.25/0.5/1/2 s) and the cairn_peer_alive
# gauges, and prints them next to the load's ops/s, p99 and errors.
#
#   bench/slow-disk.sh                                        # DISK_DELAY=50 (ms), 20 s of load
#   DISK_DELAY=0 TAG=-d0 bench/slow-disk.sh                   # the baseline: same run, no delay
#   NODE_SETS="cluster.shards=1" DISK_DELAY=5 TAG=-k1-d5 bench/slow-disk.sh
#
# What the numbers mean: the quantile gauges (p50/p99/p99.9, if the node exports them: this build
# exports only the SLO buckets, count, sum and max) and the max are Micrometer's decaying window
# (about the last 2 minutes), so at the end of a short run they also cover the cluster's start and
# the prefill; the "before" line shows what they were just before the load. The bucket,
# count and sum differences (after minus before) cover exactly the load: intervals over 250 ms /
# 500 ms / 1 s / 2 s during the load, their mean, and the bucket the p99 falls in. Every second during the load a sampler
# records how each other node's /admin/cluster sees SLOW_NODE (alive, phi, hints pending).
#
# Output: RESULTS_DIR/cairn-<version>-cluster3-slow-disk<TAG>.txt (raw, with the exact commands
# and a summary at the end) and ...-json/ (the bench's JSON report, the sampler's lines, the
# heartbeat and peer-alive series from each node's /metrics before and after the load).
#
# Settings (environment): DISK_DELAY (50, in ms; 0 = none, the POST is still made), DELAY_AFTER
# (5, seconds after the bench starts; its measured window starts after WARMUP), SLOW_NODE (3),
# KEYS (5000), VALUE_SIZE (100), DURATION (20s), WARMUP (2s, cairn bench --warmup), JIT_WARMUP (15s:
# an unrecorded run of the same load before, without delay, so fresh JVMs are not measured cold; 0
# skips it), CONNECTIONS
# (64), BENCH_THREADS (2), MIX ("get=50,put=50"), QUERY (empty: the cluster's default quorums,
# W=2 and R=2 of N=3, which the probes before the load record; a --query goes on every request and
# the server refuses r= on a PUT and w= on a GET, so a mix cannot carry both), HEAP (1g per node), NODE_SETS
# (extra `--set k=v` for every node, space-separated, e.g. "cluster.shards=1"), CAIRN_JAR
# (cairn-cli/target/cairn.jar), JAVA, RESULTS_DIR (bench/results), TAG (file-name suffix),
# KEEP_LOGS (1: copy node logs next to the results).
# Needs: curl, python3, a JDK 21+, a built cairn-cli/target/cairn.jar.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
source "$here/lib.sh"

DISK_DELAY=${DISK_DELAY:-50}
DISK_DELAY=${DISK_DELAY%ms}
DELAY_AFTER=${DELAY_AFTER:-5}
SLOW_NODE=${SLOW_NODE:-3}
KEYS=${KEYS:-5000}
VALUE_SIZE=${VALUE_SIZE:-100}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-2s}
JIT_WARMUP=${JIT_WARMUP:-15s}
CONNECTIONS=${CONNECTIONS:-64}
BENCH_THREADS=${BENCH_THREADS:-2}
MIX=${MIX:-get=50,put=50}
QUERY=${QUERY:-}
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

[[ "$DISK_DELAY" =~ ^[0-9]+$ ]] || { echo "DISK_DELAY must be a whole number of milliseconds, got '$DISK_DELAY'" >&2; exit 2; }
[[ "$DELAY_AFTER" =~ ^[0-9]+$ ]] || { echo "DELAY_AFTER must be a whole number of seconds" >&2; exit 2; }
if [[ ! -f "$CAIRN_JAR" ]]; then
  echo "no $CAIRN_JAR: build it with ./mvnw -q -pl cairn-cli -am package -DskipTests, or set CAIRN_JAR" >&2
  exit 2
fi
version=$("$JAVA" -jar "$CAIRN_JAR" --version | awk '{print $NF}')
version=${version%-SNAPSHOT}
base="$RESULTS_DIR/cairn-$version-cluster3-slow-disk$TAG"
json_dir="$base-json"
mkdir -p "$json_dir"

ids=(1 2 3)
zones=(zone-a zone-b zone-c)
(( SLOW_NODE >= 1 && SLOW_NODE <= 3 )) || { echo "SLOW_NODE must be 1, 2 or 3" >&2; exit 2; }
declare -a http_ports=() internode_ports=()
members=""
for i in "${ids[@]}"; do
  http_ports[$i]=$(free_port)
  internode_ports[$i]=$(free_port)
  members+="${members:+,}$i/${zones[$((i - 1))]}/127.0.0.1:${http_ports[$i]}/127.0.0.1:${internode_ports[$i]}"
done
http_url() { echo "http://127.0.0.1:${http_ports[$1]}"; }
observers=()
for i in "${ids[@]}"; do [[ $i == "$SLOW_NODE" ]] || observers+=("$i"); done

workdir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-slow-disk.XXXXXX")
declare -A node_pid=()
bench_pid=""
sampler_pid=""
cleanup() {
  local i
  [[ -n "$sampler_pid" ]] && stop_pid "$sampler_pid"
  [[ -n "$bench_pid" ]] && stop_pid "$bench_pid"
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
    -jar "$CAIRN_JAR" start --node-id "$i" --http-port "${http_ports[$i]}" --data-dir "$workdir/node$i"
    --set "cluster.members=$members" --set cluster.faultInjection=true)
  for s in $NODE_SETS; do cmd+=(--set "$s"); done
}

start_node() {
  local cmd
  node_cmd "$1"
  "${cmd[@]}" >"$workdir/node$1.log" 2>&1 &
  node_pid[$1]=$!
}

# Prints "id:alive id:alive ..." as node $1 sees the cluster.
cluster_view() {
  curl -sf --max-time 2 "$(http_url "$1")/admin/cluster" | python3 -c '
import json, sys
v = json.load(sys.stdin)
print(" ".join("%d:%s" % (m["id"], str(m["alive"]).lower()) for m in v["members"]))'
}

all_alive() {
  local i
  for i in "${ids[@]}"; do
    [[ "$(cluster_view "$i")" == "1:true 2:true 3:true" ]] || return 1
  done
}

# The heartbeat-interval and peer-alive series of node $1's /metrics, as exported.
heartbeat_series() {
  curl -sf --max-time 5 "$(http_url "$1")/metrics" \
    | grep -E '^cairn_(cluster_heartbeat_interval|peer_alive)' || true
}

# A sampler, once a second until stopped: how each observer sees SLOW_NODE (/admin/cluster: alive,
# phi, hints pending) and the heartbeat intervals it recorded for it since the previous sample
# (/metrics: how many, their mean, how many over 1 s, and the exported max).
sampler() {
  local args=() i
  for i in "${observers[@]}"; do args+=("node$i=$(http_url "$i")"); done
  exec python3 -u -c '
import json, re, sys, time, urllib.request
slow = sys.argv[1]
nodes = [a.split("=", 1) for a in sys.argv[2:]]
name = "cairn_cluster_heartbeat_interval_seconds"
pat = re.compile(r"^%s(_count|_sum|_max|_bucket)\{peer=\"%s\"(?:,le=\"([^\"]*)\")?\} (\S+)" % (name, slow))
prev = {}
t0 = time.monotonic()
while True:
    parts = []
    for node, url in nodes:
        try:
            with urllib.request.urlopen(url + "/admin/cluster", timeout=2) as r:
                v = json.load(r)
            m = next(x for x in v["members"] if str(x["id"]) == slow)
            part = "%s: alive=%s phi=%s hints=%s" % (node, str(m["alive"]).lower(), m.get("phi"), m.get("hintsPending"))
        except Exception as e:
            part = "%s: error %s" % (node, type(e).__name__)
        try:
            with urllib.request.urlopen(url + "/metrics", timeout=2) as r:
                s = {}
                for line in r.read().decode().splitlines():
                    g = pat.match(line)
                    if g and (g.group(1) != "_bucket" or g.group(2) in ("1.0", "+Inf")):
                        s[g.group(1) + (g.group(2) or "")] = float(g.group(3))
            p = prev.get(node)
            if p and "_count" in s:
                n = s["_count"] - p["_count"]
                mean = "%.0f" % ((s["_sum"] - p["_sum"]) / n * 1000) if n else "-"
                over = (s["_bucket+Inf"] - s["_bucket1.0"]) - (p["_bucket+Inf"] - p["_bucket1.0"])
                part += " hb: n=%d mean=%sms over1s=%d max=%.0fms" % (n, mean, over, s.get("_max", float("nan")) * 1000)
            prev[node] = s
        except Exception as e:
            part += " hb: error %s" % type(e).__name__
        parts.append(part)
    print("+%5.1fs %s" % (time.monotonic() - t0, " | ".join(parts)), flush=True)
    time.sleep(max(0.0, 1.0 - (time.monotonic() - t0) % 1.0))
' "$SLOW_NODE" "${args[@]}"
}

# summarize: the heartbeat summary rows, from the before/after series files in $json_dir.
summarize() {
  python3 - "$json_dir" "$SLOW_NODE" "${observers[@]}" <<'PY'
import math, os, re, sys
d, slow, observers = sys.argv[1], sys.argv[2], sys.argv[3:]
line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)')
def load(path):
    out = {}
    if not os.path.exists(path):
        return out
    for line in open(path):
        m = line_re.match(line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        out[(m.group(1), tuple(sorted(labels.items())))] = float(m.group(3))
    return out
def pick(series, name, peer, **extra):
    return series.get((name, tuple(sorted(dict(extra, peer=peer).items()))))
def ms(v):
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else "%.0f" % (v * 1000)
base = "cairn_cluster_heartbeat_interval_seconds"
fmt = "%-8s %-4s %-6s %6s %6s %6s %6s | %6s %6s %5s %5s %4s %4s %-9s | %s"
print(fmt % ("observer", "peer", "when", "p50", "p99", "p99.9", "max", "n_load", "mean", ">250", ">500", ">1s", ">2s", "p99 in", "alive"))
for obs in observers:
    before = load(os.path.join(d, "metrics-before-node%s.txt" % obs))
    after = load(os.path.join(d, "metrics-after-node%s.txt" % obs))
    peers = sorted({dict(l).get("peer") for (n, l) in after if n.startswith(base) and dict(l).get("peer")}, key=lambda p: (p != slow, p))
    for peer in peers:
        for when, s in (("before", before), ("after", after)):
            q = lambda x: pick(s, base, peer, quantile=x)
            cols = [ms(q("0.5")), ms(q("0.99")), ms(q("0.999")), ms(pick(s, base + "_max", peer))]
            alive = pick(s, "cairn_peer_alive", peer)
            alive = "-" if alive is None else "%d" % alive
            if when == "after":
                def delta(name, **kw):
                    a, b = pick(after, name, peer, **kw), pick(before, name, peer, **kw)
                    return None if a is None else a - (b or 0)
                n = delta(base + "_count"); tot = delta(base + "_sum")
                inf = delta(base + "_bucket", le="+Inf")
                over = []
                for le in ("0.25", "0.5", "1.0", "2.0"):
                    b = delta(base + "_bucket", le=le)
                    over.append("-" if b is None or inf is None else "%d" % (inf - b))
                p99 = "-"
                if inf:
                    lo = "0"
                    # Every bucket the node exports (fine ones from its percentile histogram, and
                    # the SLO ones), in order: the p99 lies in the first one holding 99 %.
                    les = sorted({dict(l)["le"] for (nm, l) in after if nm == base + "_bucket" and dict(l).get("peer") == peer
                                  and "le" in dict(l)}, key=lambda x: float("inf") if x == "+Inf" else float(x))
                    for le in les:
                        b = delta(base + "_bucket", le=le)
                        if b is not None and b >= 0.99 * inf:
                            p99 = "%s-%s" % (lo, "inf" if le == "+Inf" else "%g" % (float(le) * 1000))
                            break
                        lo = "%g" % (float(le) * 1000) if le != "+Inf" else lo
                load_cols = ["-" if n is None else "%d" % n, "-" if not n else "%.0f" % (tot / n * 1000)] + over + [p99]
            else:
                load_cols = [""] * 7
            print(fmt % ("node" + obs, peer, when, *cols, *load_cols, alive))
PY
}

bench_cmd=("$JAVA" -jar "$CAIRN_JAR" bench)

header() {
  machine_info
  echo "# $("$JAVA" -jar "$CAIRN_JAR" --version) ($CAIRN_JAR, $("$JAVA" -version 2>&1 | head -1))"
  echo "# cluster: 3 nodes on this machine, N=3, zones zone-a/b/c, default durability (sync), heap $HEAP each, --set cluster.faultInjection=true${NODE_SETS:+ --set $NODE_SETS}"
  local i cmd
  for i in "${ids[@]}"; do
    node_cmd "$i"
    echo "# node $i: ${cmd[*]//$workdir/<tmp>}"
  done
  echo "# slow node $SLOW_NODE: diskDelay=${DISK_DELAY}ms, set ${DELAY_AFTER} s after the load starts"
  echo "# load: keys=$KEYS value_size=$VALUE_SIZE connections=$CONNECTIONS bench_threads=$BENCH_THREADS mix=$MIX query=${QUERY:-(none: cluster defaults)} duration=$DURATION warmup=$WARMUP jit_warmup=$JIT_WARMUP"
  echo "# raw series and reports: $json_dir"
}

run() {
  header
  local started=$SECONDS i urls=() rc=0
  cairn_certs "$workdir" "${ids[@]}"
  for i in "${ids[@]}"; do start_node "$i"; done
  if ! wait_until 120 all_alive; then
    for i in "${ids[@]}"; do echo "--- node$i log"; tail -20 "$workdir/node$i.log"; done
    return 1
  fi
  echo "## $(date -u +%T) cluster formed in $((SECONDS - started)) s: node1 sees $(cluster_view 1)"
  for i in "${ids[@]}"; do
    echo "## node$i: shards=$(curl -sf "$(http_url "$i")/admin/cluster" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("shards"))') faults=$(curl -sf "$(http_url "$i")/admin/faults")"
  done
  for i in "${ids[@]}"; do urls+=(--url "$(http_url "$i")"); done
  echo
  echo "## prefill: ${bench_cmd[*]} ${urls[*]} --connections $CONNECTIONS --threads $BENCH_THREADS --keys $KEYS --value-size $VALUE_SIZE --prefill --mix put=1 --warmup 0s --duration 1s"
  "${bench_cmd[@]}" "${urls[@]}" --connections "$CONNECTIONS" --threads "$BENCH_THREADS" --keys "$KEYS" \
    --value-size "$VALUE_SIZE" --prefill --mix put=1 --warmup 0s --duration 1s | grep -E '^prefill done|^total' \
    || { echo "prefill failed" >&2; return 1; }

  if [[ "$JIT_WARMUP" != 0 && "$JIT_WARMUP" != 0s ]]; then
    echo
    echo "## $(date -u +%T) JIT warm-up (unrecorded, no disk delay): ${bench_cmd[*]} ${urls[*]} --connections $CONNECTIONS --threads $BENCH_THREADS --keys $KEYS --value-size $VALUE_SIZE --mix $MIX ${QUERY:+--query $QUERY} --warmup 0s --duration $JIT_WARMUP"
    "${bench_cmd[@]}" "${urls[@]}" --connections "$CONNECTIONS" --threads "$BENCH_THREADS" --keys "$KEYS" \
      --value-size "$VALUE_SIZE" --mix "$MIX" ${QUERY:+--query "$QUERY"} --warmup 0s --duration "$JIT_WARMUP" | grep -E '^total' || true
  fi
  for i in "${observers[@]}"; do heartbeat_series "$i" >"$json_dir/metrics-before-node$i.txt"; done
  echo
  echo "## heartbeat series before the load (node${observers[0]}; every observer's in $json_dir/metrics-before-node*.txt):"
  sed 's/^/##   /' "$json_dir/metrics-before-node${observers[0]}.txt"

  local args=("${urls[@]}" --connections "$CONNECTIONS" --threads "$BENCH_THREADS" --keys "$KEYS"
    --value-size "$VALUE_SIZE" --mix "$MIX" ${QUERY:+--query "$QUERY"} --warmup "$WARMUP" --duration "$DURATION"
    --json "$json_dir/bench.json")
  # What quorum the load gets: one PUT and one GET with the same query, their Cairn-Acks / Cairn-Replies.
  local probe="$(http_url "${observers[0]}")/kv/cairn-slow-disk-probe"
  echo
  echo "## probe: curl -X PUT $probe${QUERY:+?$QUERY} -> $(curl -s -o /dev/null -D - -X PUT --data-binary probe "$probe${QUERY:+?$QUERY}" \
    | tr -d '\r' | grep -iE '^(HTTP/|cairn-acks)' | tr '\n' ' ')"
  echo "## probe: curl $probe${QUERY:+?$QUERY} -> $(curl -s -o /dev/null -D - "$probe${QUERY:+?$QUERY}" \
    | tr -d '\r' | grep -iE '^(HTTP/|cairn-replies)' | tr '\n' ' ')"
  echo
  echo "## $(date -u +%T) load: ${bench_cmd[*]} ${args[*]}"
  load_note
  sampler >"$json_dir/samples.txt" 2>&1 &
  sampler_pid=$!
  "${bench_cmd[@]}" "${args[@]}" >"$workdir/bench.txt" 2>&1 &
  bench_pid=$!
  sleep "$DELAY_AFTER"
  echo "## $(date -u +%T) +${DELAY_AFTER}s: curl -s -X POST '$(http_url "$SLOW_NODE")/admin/faults?diskDelay=${DISK_DELAY}ms' -> $(curl -s -X POST "$(http_url "$SLOW_NODE")/admin/faults?diskDelay=${DISK_DELAY}ms")"
  wait "$bench_pid" || rc=$?
  bench_pid=""
  # Read the series at once, while the disk is still slow.
  for i in "${observers[@]}"; do heartbeat_series "$i" >"$json_dir/metrics-after-node$i.txt"; done
  stop_sampler_now
  cat "$workdir/bench.txt"
  echo "## $(date -u +%T) cairn bench exit code: $rc (1 = error ratio above --max-error-ratio)"
  echo "## node$SLOW_NODE /admin/faults after the load: $(curl -s "$(http_url "$SLOW_NODE")/admin/faults")"
  echo
  echo "## how the other nodes saw node $SLOW_NODE during the load (sampled every second, $json_dir/samples.txt):"
  sed 's/^/##   /' "$json_dir/samples.txt"
  echo
  for i in "${observers[@]}"; do
    echo "## heartbeat series after the load, node$i:"
    sed 's/^/##   /' "$json_dir/metrics-after-node$i.txt"
  done
  echo
  echo "## node${observers[0]} /admin/cluster stats: $(curl -s "$(http_url "${observers[0]}")/admin/cluster" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"])')"

  echo
  echo "## summary: load (successful ops/s, latency in ms; errors = errors + shed)"
  printf '%-10s %-20s %10s %8s %8s %8s %8s %8s\n' diskDelay node_sets ops/s p50 p99 p99.9 max errors
  awk -v d="${DISK_DELAY}ms" -v k="${NODE_SETS:-default}" '$1 == "total" {
      printf "%-10s %-20s %10.0f %8.3f %8.3f %8.3f %8.3f %8d\n", d, k, $3, $7, $9, $10, $11, $4 + $5 }' "$workdir/bench.txt"
  local samples dead
  samples=$(grep -c '^+' "$json_dir/samples.txt" || true)
  dead=$(grep -c 'alive=false\|error' "$json_dir/samples.txt" || true)
  echo
  echo "## summary: node $SLOW_NODE as seen by the others during the load: $samples samples, $dead with a node seeing it not alive (or unreachable)"
  echo
  echo "## summary: heartbeat intervals each observer recorded, per peer (ms). p50/p99/p99.9/max: Micrometer's"
  echo "## ~2-minute window as exported, - = not exported (before = just before the load, after = at its end)."
  echo "## n_load, mean, the >250/>500/>1s/>2s counts and the bucket the p99 falls in (from the SLO buckets):"
  echo "## intervals recorded during the load alone (after minus before). alive: cairn_peer_alive."
  summarize
  return "$rc"
}

stop_sampler_now() {
  [[ -n "$sampler_pid" ]] && stop_pid "$sampler_pid"
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=""
}

status=0
exec 3>&1
run > >(tee "$base.txt" >&3) 2>&1 || status=$?
sleep 1  # let tee finish writing
echo "results: $base.txt $json_dir" >&3
exit "$status"
