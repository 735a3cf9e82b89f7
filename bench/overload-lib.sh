# The measurement plan shared by overload.sh (one node) and overload-cluster.sh (three nodes).
# Sourced after lib.sh. The caller sets:
#   node_urls[i], node_pids[i], node_logs[i]   every node (index from 1), started and healthy
#   abuse_nodes                                 which nodes the abusive client talks to ("1")
#   base                                        results path without extension
#   describe_servers                            a function printing "# ..." lines about the servers
# and then calls run_plan. Settings are read from the environment (see the scripts' headers).

KEYS=${KEYS:-100000}
VALUE_SIZE=${VALUE_SIZE:-1024}
CONNECTIONS=${CONNECTIONS:-32}
MIX=${MIX:-get=90,put=10}
BENCH_THREADS=${BENCH_THREADS:-2}
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-3s}
JIT_WARMUP=${JIT_WARMUP:-10s}
RAMP=${RAMP:-3}
# MODE or MODE:CONNECTIONS (overrides the mode's connection count below for that run).
ABUSE_MODES=${ABUSE_MODES:-"pipeline-no-read idle slowloris flood-large:100 flood-large pipeline-no-read:100"}
FLOOD_CONNECTIONS=${FLOOD_CONNECTIONS:-1000}
FLOOD_VALUE_SIZE=${FLOOD_VALUE_SIZE:-262144}
PIPELINE_CONNECTIONS=${PIPELINE_CONNECTIONS:-4}
PIPELINE_VALUE_SIZE=${PIPELINE_VALUE_SIZE:-65536}
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-10000}
SLOWLORIS_CONNECTIONS=${SLOWLORIS_CONNECTIONS:-1000}
LOADS=${LOADS:-"1 2 4 7 10"}
CURVE_CONNECTIONS=${CURVE_CONNECTIONS:-512}
CURVE_DURATION=${CURVE_DURATION:-10s}
CURVE_WARMUP=${CURVE_WARMUP:-2s}
MAX_BACKLOG=${MAX_BACKLOG:-1000}
SETTLE_TIMEOUT=${SETTLE_TIMEOUT:-60}

clk_tck=$(getconf CLK_TCK)
abuse_table=()
curve_table=()
capacity=""
quiet_goodput=""
quiet_p99=""
sampler_pid=""
abuser_pid=""
run_disturbed=0

seconds_of() {  # 15s -> 15, 500ms -> 0.5 (the forms these scripts use)
  case $1 in
    *ms) awk -v v="${1%ms}" 'BEGIN {print v / 1000}' ;;
    *s) echo "${1%s}" ;;
    *m) echo $(( ${1%m} * 60 )) ;;
    *) echo "$1" ;;
  esac
}

# CPU ticks (user + system) a process has used so far; 0 once it is gone.
cpu_ticks() {
  awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# Ticks of the whole machine so far: "USER_AND_SYSTEM IRQ_AND_SOFTIRQ" (user, nice, system and
# steal; then interrupts, where the kernel does much of the loopback network work, charged to no
# process).
busy_ticks() {
  awk '/^cpu / {print $2 + $3 + $4 + $9, $7 + $8}' /proc/stat
}

# One line per node per second: heap (all G1 areas), old generation, RSS, connections, budget use,
# write queue, RocksDB stall time so far and compaction backlog, and how /health answered
# (status, seconds) on the first node. Runs until killed.
sampler() {
  local out=$1 i m health
  while :; do
    health=$(curl -s -o /dev/null --max-time 2 -w '%{http_code} %{time_total}' "${node_urls[1]}/health" || true)
    for i in "${!node_urls[@]}"; do
      m=$(curl -s --max-time 2 "${node_urls[$i]}/metrics" || true)
      awk -v t="$(date +%s.%N)" -v node="$i" -v health="${health:-000 0}" \
          -v rss="$(awk '/^VmRSS/ {print $2 * 1024}' "/proc/${node_pids[$i]}/status" 2>/dev/null || echo 0)" '
        /^jvm_memory_used_bytes\{area="heap"/ { heap += $NF; if ($0 ~ /Old Gen/) old = $NF }
        /^cairn_http_connections / { conns = $NF }
        /^cairn_http_inflight_request_bytes / { inflight = $NF }
        /^cairn_http_unflushed_response_bytes / { unflushed = $NF }
        /^cairn_storage_stall_seconds_total / { stall = $NF * 1000000 }
        /^cairn_storage_pending_compaction_bytes / { pending = $NF }
        /^cairn_write_queue_depth / { queue = $NF }
        END {
          split(health, h, " ")
          printf "t=%.1f node=%d heap=%d old=%d rss=%d conns=%d inflight=%d unflushed=%d write_queue=%s stall_us=%d compaction_pending=%d health=%s health_s=%s\n",
            t, node, heap, old, rss, conns, inflight, unflushed, queue, stall, pending, (node == 1 ? h[1] : "-"), (node == 1 ? h[2] : "-")
        }' <<<"$m"
    done >>"$out"
    sleep 1
  done
}

start_sampler() {
  : >"$1"
  sampler "$1" &
  sampler_pid=$!
}

stop_sampler() {
  if [[ -n "$sampler_pid" ]]; then
    kill "$sampler_pid" 2>/dev/null || true
    wait "$sampler_pid" 2>/dev/null || true
    sampler_pid=""
  fi
}

# Prints "heap_max_mib old_max_mib rss_max_mib health_ok health_total health_max_ms" over a sample file.
sample_summary() {
  awk '
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    { if (v["heap"] > heap) heap = v["heap"]; if (v["old"] > old) old = v["old"]; if (v["rss"] > rss) rss = v["rss"] }
    v["node"] == 1 { total++; if (v["health"] == "200") ok++; if (v["health_s"] * 1000 > hmax) hmax = v["health_s"] * 1000 }
    END { printf "%.0f %.0f %.0f %d %d %.0f", heap / 1048576, old / 1048576, rss / 1048576, ok, total, hmax }' "$1"
}

# Waits until every node is healthy and holds at most a few connections (the last run's are gone).
settle() {
  local deadline=$(( SECONDS + SETTLE_TIMEOUT )) i busy
  while :; do
    busy=0
    for i in "${!node_urls[@]}"; do
      local c
      c=$(curl -s --max-time 2 "${node_urls[$i]}/metrics" | awk '/^cairn_http_connections / {printf "%d", $NF}')
      if [[ -z "$c" ]] || (( c > 8 )); then busy=1; fi
    done
    (( busy == 0 )) && break
    if (( SECONDS >= deadline )); then
      echo "## settle: connections still open after ${SETTLE_TIMEOUT} s; going on"
      break
    fi
    sleep 1
  done
  sleep 2
}

# Stops the plan if a node died: that is a finding, not something to measure around.
check_nodes() {
  local i
  for i in "${!node_pids[@]}"; do
    if ! kill -0 "${node_pids[$i]}" 2>/dev/null; then
      echo "## NODE $i DIED (pid ${node_pids[$i]}); last lines of its log:"
      tail -40 "${node_logs[$i]}" | sed 's/^/##   /'
      return 1
    fi
  done
  if grep -l "OutOfMemoryError" "${node_logs[@]}" >/dev/null 2>&1; then
    echo "## OutOfMemoryError in a node log:"
    grep -h -m3 "OutOfMemoryError" "${node_logs[@]}" | sed 's/^/##   /'
  fi
}

bench_urls() {
  local i
  for i in "${!node_urls[@]}"; do printf -- '--url %s ' "${node_urls[$i]}"; done
}

abuse_urls() {
  local i
  for i in $abuse_nodes; do printf -- '--url %s ' "${node_urls[$i]}"; done
}

# abuse_args MODE[:CONNECTIONS]: the `cairn abuse` options for one run.
abuse_args() {
  local mode=${1%%:*} n=""
  [[ $1 == *:* ]] && n=${1#*:}
  case $mode in
    flood-large) echo "--mode $mode --connections ${n:-$FLOOD_CONNECTIONS} --value-size $FLOOD_VALUE_SIZE --keys 1000" ;;
    pipeline-no-read) echo "--mode $mode --connections ${n:-$PIPELINE_CONNECTIONS} --value-size $PIPELINE_VALUE_SIZE" ;;
    idle) echo "--mode $mode --connections ${n:-$IDLE_CONNECTIONS}" ;;
    slowloris) echo "--mode $mode --connections ${n:-$SLOWLORIS_CONNECTIONS} --byte-interval 1s" ;;
    *) echo "unknown abuse mode $1" >&2; return 1 ;;
  esac
}

# The label of an abuse run: the mode and its connection count.
abuse_label() {
  local args
  args=$(abuse_args "$1")
  echo "${1%%:*} x$(awk '{for (i = 1; i < NF; i++) if ($i == "--connections") print $(i + 1)}' <<<"$args")"
}

# Fields of a bench JSON report: goodput p50 p99 count shed errors offered unsent delayed scheduled
bench_fields() {
  python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = r["total"]
o = r.get("openLoop") or {}
print("%.1f %.3f %.3f %d %d %d %.1f %d %d %d" % (
    t["throughputOpsPerSecond"], t["latencyMillis"]["p50"], t["latencyMillis"]["p99"],
    t["count"], t["shed"], t["errors"] + r["connectFailures"], o.get("offeredOpsPerSecond", 0.0),
    o.get("unsent", 0), o.get("sentDelayed", 0), o.get("scheduled", 0)))
PY
}

# run_case NAME ABUSE_MODE|- WARMUP DURATION BENCH_ARGS...: run_once, and once more when
# something else on the machine took CPU during it (the second attempt's figures are kept).
run_case() {
  run_once "$@" || return 1
  if [[ "$run_disturbed" == 1 ]]; then
    echo "## running $1 again"
    run_once "$@" || return 1
  fi
}

# run_once NAME ABUSE_MODE|- WARMUP DURATION BENCH_ARGS...: one measured bench run, with the
# abusive client running from RAMP seconds before it to past its end, the sampler running
# throughout, and the CPU each process took. Sets the globals run_fields, run_samples and
# run_disturbed.
run_once() {
  local name=$1 mode=$2; shift 2
  local json="$json_dir/$name.json" samples="$json_dir/$name-samples.txt"
  local abuse_json="$json_dir/$name-abuse.json" abuse_out="$workdir/abuse.out" timefile="$workdir/time"
  local bench_seconds
  echo
  echo "## run $name${mode:+ (abuse: $mode)}"
  settle
  load_note
  start_sampler "$samples"
  if [[ "$mode" != "-" ]]; then
    bench_seconds=$(awk -v w="$(seconds_of "$1")" -v d="$(seconds_of "$2")" 'BEGIN {print w + d}')
    # Slack for the bench's JVM start and its report: the abuse must outlast the measured window.
    local abuse_seconds=$(( RAMP + ${bench_seconds%.*} + 10 ))
    local args
    read -r -a args <<<"$(abuse_urls) $(abuse_args "$mode") --duration ${abuse_seconds}s --json $abuse_json"
    echo "## abuse command: ${cairn[*]} abuse ${args[*]}"
    "${cairn[@]}" abuse "${args[@]}" >"$abuse_out" 2>&1 &
    abuser_pid=$!
    sleep "$RAMP"
  fi
  shift 2
  local bench_args
  read -r -a bench_args <<<"$(bench_urls)"
  bench_args+=("$@" --json "$json" --max-error-ratio 1)
  echo "## bench command: ${cairn[*]} bench ${bench_args[*]}"
  local server_before=() i abuser_before busy_before irq_before
  for i in "${!node_pids[@]}"; do server_before[$i]=$(cpu_ticks "${node_pids[$i]}"); done
  abuser_before=$([[ -n "$abuser_pid" ]] && cpu_ticks "$abuser_pid" || echo 0)
  read -r busy_before irq_before <<<"$(busy_ticks)"
  local started=$EPOCHREALTIME
  /usr/bin/time -f '%U %S' -o "$timefile" "${cairn[@]}" bench "${bench_args[@]}" | grep -vE '^\[' || status=1
  local wall
  wall=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN {print b - a}')
  local server_ticks=0
  for i in "${!node_pids[@]}"; do server_ticks=$(( server_ticks + $(cpu_ticks "${node_pids[$i]}") - server_before[i] )); done
  local abuser_ticks=0
  [[ -n "$abuser_pid" ]] && abuser_ticks=$(( $(cpu_ticks "$abuser_pid") - abuser_before ))
  local busy irq
  read -r busy irq <<<"$(busy_ticks)"
  busy=$(( busy - busy_before ))
  irq=$(( irq - irq_before ))
  local cpu
  cpu=$(awk -v s="$server_ticks" -v a="$abuser_ticks" -v b="$busy" -v q="$irq" -v w="$wall" -v hz="$clk_tck" -v bt="$(tail -1 "$timefile")" '
    BEGIN { split(bt, x, " "); bench = (x[1] + x[2]) * hz
            other = b - s - a - bench; if (other < 0) other = 0
            printf "%.2f %.2f %.2f %.2f %.2f", s / hz / w, a / hz / w, bench / hz / w, q / hz / w, other / hz / w }')
  if [[ -n "$abuser_pid" ]]; then
    wait "$abuser_pid" || echo "## the abusive client exited with $?"
    abuser_pid=""
    echo "## abusive client's report:"
    grep -vE '^\[' "$abuse_out" | sed 's/^/##   /'
  fi
  stop_sampler
  run_samples=$(sample_summary "$samples")
  run_fields="$(bench_fields "$json") $cpu"
  read -r _ _ _ _ _ _ _ _ _ _ cs ca cb cq co <<<"$run_fields"
  echo "## cpu over the bench run (cores of $(nproc)): server $cs, abusive client $ca, bench $cb, kernel interrupts $cq, anything else $co"
  run_disturbed=0
  if awk -v o="$co" 'BEGIN {exit !(o > 0.15)}'; then
    echo "## NOTE: something else took $co cores during this run: it is disturbed"
    run_disturbed=1
  fi
  read -r hm om rm hok htot hmax <<<"$run_samples"
  echo "## sampled: heap max ${hm} MiB (old gen ${om} MiB), RSS max ${rm} MiB (any node); /health ${hok}/${htot} ok, slowest ${hmax} ms"
  check_nodes
}

quiet_args() {
  echo "--connections $CONNECTIONS --threads $BENCH_THREADS --keys $KEYS --value-size $VALUE_SIZE --mix $MIX"
}

abuse_row() {
  local label=$1
  read -r g p50 p99 n shed err _ _ _ _ cs ca cb cq co <<<"$run_fields"
  read -r hm om rm hok htot hmax <<<"$run_samples"
  local pct
  pct=$(awk -v g="$g" -v q="$quiet_goodput" 'BEGIN {printf "%.0f", (q > 0 ? 100 * g / q : 0)}')
  abuse_table+=("$(printf '%-18s %10.0f %6s%% %8.2f %8.2f %8d %8d %7d %7d %7d %6s %9s  %s' \
    "$label" "$g" "$pct" "$p50" "$p99" "$shed" "$err" "$hm" "$om" "$rm" "$hok/$htot" "$hmax" "$cs/$ca/$cb/$cq/$co")")
}

curve_row() {
  local load=$1 target=$2
  read -r g p50 p99 n shed err offered unsent delayed scheduled cs ca cb cq co <<<"$run_fields"
  read -r hm om rm hok htot hmax <<<"$run_samples"
  curve_table+=("$(awk -v l="$load" -v t="$target" -v o="$offered" -v g="$g" -v c="$capacity" -v p50="$p50" -v p99="$p99" \
      -v n="$n" -v shed="$shed" -v err="$err" -v u="$unsent" -v d="$delayed" -v s="$scheduled" -v hm="$hm" -v om="$om" -v rm="$rm" \
      -v cpu="$cs/$cb/$cq/$co" 'BEGIN {
    sent = n + shed + err
    printf "%-5s %9.0f %9.0f %9.0f %6.0f%% %8.2f %9.2f %6.1f%% %6.1f%% %7.1f%% %7.1f%% %7d %7d %7d  %s",
      l "x", t, o, g, (c > 0 ? 100 * g / c : 0), p50, p99, (sent > 0 ? 100 * shed / sent : 0), (sent > 0 ? 100 * err / sent : 0),
      (s > 0 ? 100 * u / s : 0), (s > 0 ? 100 * d / s : 0), hm, om, rm, cpu }')")
}

print_tables() {
  echo
  echo "## summary: well-behaved clients ($(quiet_args), closed loop) alone and while an abusive client runs"
  echo "## (goodput = successful answers/s; % of quiet; latency ms; shed = 503 answers; errors = other failures;"
  echo "##  heap/old/RSS = max MiB of any node; health = /health answers 200 of samples, slowest ms;"
  echo "##  cpu = cores: server(s)/abusive client/bench/kernel interrupts/anything else)"
  printf '%-18s %10s %7s %8s %8s %8s %8s %7s %7s %7s %6s %9s  %s\n' \
    case goodput "%quiet" p50 p99 shed errors heap old rss health health_ms "cpu s/a/b/i/o"
  printf '%s\n' "${abuse_table[@]}"
  echo
  echo "## summary: open loop ($CURVE_CONNECTIONS connections, --max-backlog $MAX_BACKLOG, mix $MIX) at multiples of capacity = $capacity ops/s (quiet goodput)"
  echo "## (latency from each request's intended time; shed/err % of requests sent; unsent/delayed % of requests due;"
  echo "##  cpu = cores: server(s)/bench/kernel interrupts/anything else)"
  printf '%-5s %9s %9s %9s %7s %8s %9s %7s %7s %8s %8s %7s %7s %7s  %s\n' \
    load target offered goodput "%cap" p50 p99 shed err unsent delayed heap old rss "cpu s/b/i/o"
  printf '%s\n' "${curve_table[@]}"
}

run_plan() {
  local version
  version=$("$JAVA" -jar "$CAIRN_JAR" --version | awk '{print $NF}')
  machine_info
  echo "# $("$JAVA" -jar "$CAIRN_JAR" --version) ($CAIRN_JAR, $("$JAVA" -version 2>&1 | head -1)), commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  describe_servers
  echo "# well-behaved clients: $(quiet_args), duration $DURATION after $WARMUP warm-up; abuse starts $RAMP s before them"
  echo "# abuse runs: $ABUSE_MODES (MODE:N = N connections; otherwise flood-large $FLOOD_CONNECTIONS x PUT of $FLOOD_VALUE_SIZE B, pipeline-no-read $PIPELINE_CONNECTIONS x GET of $PIPELINE_VALUE_SIZE B, idle $IDLE_CONNECTIONS, slowloris $SLOWLORIS_CONNECTIONS at 1 byte/s) on node(s) $abuse_nodes"
  echo "# open-loop curve: loads $LOADS x capacity, $CURVE_CONNECTIONS connections, --max-backlog $MAX_BACKLOG, $CURVE_DURATION after $CURVE_WARMUP"
  echo "# JSON reports and per-second samples: $json_dir"
  echo
  echo "## prefill: ${cairn[*]} bench $(bench_urls)--connections 64 --keys $KEYS --value-size $VALUE_SIZE --prefill --mix put=1 --warmup 0s --duration 1s"
  local urls
  read -r -a urls <<<"$(bench_urls)"
  "${cairn[@]}" bench "${urls[@]}" --connections 64 --keys "$KEYS" --value-size "$VALUE_SIZE" --prefill --mix put=1 \
    --warmup 0s --duration 1s | grep -E '^prefill done' || { echo "prefill failed"; return 1; }
  local quiet
  read -r -a quiet <<<"$(quiet_args)"
  echo
  echo "## unrecorded warm-up of the server's JIT: ${cairn[*]} bench $(bench_urls)$(quiet_args) --warmup 0s --duration $JIT_WARMUP"
  "${cairn[@]}" bench "${urls[@]}" "${quiet[@]}" --warmup 0s --duration "$JIT_WARMUP" | grep -E '^total' || true
  run_case quiet - "$WARMUP" "$DURATION" "${quiet[@]}" --warmup "$WARMUP" --duration "$DURATION" || return 1
  read -r quiet_goodput _ quiet_p99 _ <<<"$run_fields"
  capacity=$(printf '%.0f' "$quiet_goodput")
  abuse_row quiet
  local m
  for m in $LOADS; do
    local rate=$(( capacity * m ))
    run_case "open-${m}x" - "$CURVE_WARMUP" "$CURVE_DURATION" --connections "$CURVE_CONNECTIONS" --threads "$BENCH_THREADS" \
      --keys "$KEYS" --value-size "$VALUE_SIZE" --mix "$MIX" --rate "$rate" --max-backlog "$MAX_BACKLOG" \
      --warmup "$CURVE_WARMUP" --duration "$CURVE_DURATION" || { curve_row "$m" "$rate"; print_tables; return 1; }
    curve_row "$m" "$rate"
  done
  local mode
  # A node that dies ends the plan (check_nodes printed why), after the tables of what was measured.
  for mode in $ABUSE_MODES; do
    local label rc=0
    label=$(abuse_label "$mode")
    run_case "abuse-${label// x/-x}" "$mode" "$WARMUP" "$DURATION" "${quiet[@]}" --warmup "$WARMUP" --duration "$DURATION" || rc=1
    abuse_row "$label"
    if (( rc != 0 )); then
      print_tables
      return 1
    fi
  done
  run_case quiet-after - "$WARMUP" "$DURATION" "${quiet[@]}" --warmup "$WARMUP" --duration "$DURATION" || { print_tables; return 1; }
  abuse_row "quiet (after)"
  print_tables
}
