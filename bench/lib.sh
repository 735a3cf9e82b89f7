# Helpers sourced by the bench scripts in this folder. Loopback only.

# Prints a free TCP port on 127.0.0.1 (the kernel picks it; a race with another binder is possible
# but harmless here: the server start then fails loudly).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_until SECONDS COMMAND...: retries COMMAND every 0.2 s until it succeeds or time runs out.
wait_until() {
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    if (( $(date +%s) >= deadline )); then
      echo "timed out waiting for: $*" >&2
      return 1
    fi
    sleep 0.2
  done
}

# stop_pid PID: TERM, wait up to 10 s, then KILL; only ever the pid we started.
stop_pid() {
  local pid=$1
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
}

machine_info() {
  echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
  echo "# cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "# data disk: $(df -h --output=source,fstype "${TMPDIR:-/tmp}" | tail -1)"
}

# One line with how busy the cores were over the 2 s before a run (all processes). Well above a
# few percent means something else (a build, a test suite) shares the 2 cores and the numbers
# that follow are disturbed; the load average is no help here, as it lags by a minute.
load_note() {
  local a b
  read -r -a a < /proc/stat
  sleep 2
  read -r -a b < /proc/stat
  local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) ))
  local total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  echo "## cpu busy over the 2 s before run: $(( total > 0 ? 100 * (total - idle) / total : 0 ))% (load average $(cut -d' ' -f1-3 /proc/loadavg))"
}

# Exits with a message when a loopback port is taken. Usage: require_free_port PORT "what to change"
require_free_port() {
  if ! python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()' "$1" 2>/dev/null; then
    echo "port $1 is in use; set $2" >&2
    exit 2
  fi
}

# cairn_certs DIR ID...: a cluster CA in DIR/ca and, for each node, its certificate in DIR/nodeID/tls
# (that node's default cluster.tls.dir when its data dir is DIR/nodeID): the nodes of a cluster talk
# only over mutual TLS. certs init also makes the cluster's admin credential (DIR/ca/admin.token, a
# copy in every node's tls dir), exported as CAIRN_TOKEN for wrk, cairn bench and cairn abuse
# (not with NO_TOKEN=1: for nodes run with auth.enabled=false, measured without the header).
# Needs JAVA and CAIRN_JAR.
cairn_certs() {
  local dir=$1 i
  shift
  [[ -f "$dir/ca/ca.key" ]] || "$JAVA" -jar "$CAIRN_JAR" certs init --dir "$dir/ca" --name bench >/dev/null
  for i in "$@"; do
    [[ -f "$dir/node$i/tls/node.crt" ]] ||
      "$JAVA" -jar "$CAIRN_JAR" certs issue --ca "$dir/ca" --node "$i" --host 127.0.0.1 --out "$dir/node$i/tls" >/dev/null
  done
  if [[ "${NO_TOKEN:-}" == 1 ]]; then
    unset CAIRN_TOKEN
  else
    CAIRN_TOKEN=$(cat "$dir/ca/admin.token")
    export CAIRN_TOKEN
  fi
}

# cairn_token DATA_DIR: exports CAIRN_TOKEN from a single node's admin credential (it creates the
# file at its first start) unless CAIRN_TOKEN is already set; no token when the file is not there.
cairn_token() {
  if [[ -z "${CAIRN_TOKEN:-}" && -r "$1/auth/admin.token" ]]; then
    CAIRN_TOKEN=$(cat "$1/auth/admin.token")
    export CAIRN_TOKEN
  fi
}

# Every curl the scripts make carries the bearer token when one is set (CAIRN_TOKEN, see
# cairn_certs and cairn_token); /health and /ready need none, every other Cairn route does.
curl() {
  if [[ -n "${CAIRN_TOKEN:-}" ]]; then
    command curl -H "Authorization: Bearer $CAIRN_TOKEN" "$@"
  else
    command curl "$@"
  fi
}

# ------------------------------------------------------------------ for the measuring scripts
# (anti-entropy.sh, elastic.sh): they set LOCK_FILE, IDLE_BUSY and IDLE_WAIT before calling these.

# The machine lock (LOCK_FILE): held for one part's run at a time (a cluster's whole life, so
# our idle servers never run beside someone else's measurements). fd 9; children never inherit it.
lock() {
  [[ -n "$LOCK_FILE" ]] || return 0
  exec 9>>"$LOCK_FILE"
  local t0=$SECONDS
  flock 9
  echo "## $(date -u +%T) lock $LOCK_FILE taken (waited $((SECONDS - t0)) s)"
}
unlock() {
  [[ -n "$LOCK_FILE" ]] || return 0
  flock -u 9
  exec 9>&-
  echo "## $(date -u +%T) lock released"
  sleep 2 # someone waiting for the lock gets it before our next run takes it again
}

# wait_idle: waits (up to IDLE_WAIT s) for a 2 s window with the cores at most IDLE_BUSY % busy,
# then prints lib.sh's load_note line. A lock only keeps out those who take it.
cpu_busy_pct() {
  local a b
  read -r -a a < /proc/stat
  sleep 2
  read -r -a b < /proc/stat
  local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}
wait_idle() {
  local t0=$SECONDS busy
  while busy=$(cpu_busy_pct); (( busy > IDLE_BUSY )); do
    if (( SECONDS - t0 >= IDLE_WAIT )); then
      echo "## the cores stayed busy (${busy}% over 2 s) for $IDLE_WAIT s: measuring anyway, the run is disturbed"
      break
    fi
    (( SECONDS - t0 < 3 )) && echo "## $(date -u +%T) cores ${busy}% busy: waiting until they are idle"
  done
  (( SECONDS - t0 > 3 )) && echo "## $(date -u +%T) waited $((SECONDS - t0)) s for idle cores"
  load_note
}

# CPU ticks: of one process (user + system), of the whole machine (busy, interrupts), and of this
# script's children that ended.
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $9, $7 + $8}' /proc/stat; }
# children_ticks: the CPU ticks of the ended children of the shell CHILDREN_OF (default: the script's
# own; a script running its work in a subshell sets it to that subshell's $BASHPID).
children_ticks() { awk '{print $16 + $17}' "/proc/${CHILDREN_OF:-$$}/stat"; }

# java_21: prints a java of version 21 or newer: $1 (JAVA / JAVA_HOME's) when it is one, else the
# newest found under /usr/lib/jvm (the machine's default java may be older; Debian 12: 17).
java_21() {
  local java=$1 candidate
  if ! "$java" -version 2>&1 | grep -Eq 'version "(2[1-9]|[3-9][0-9])'; then
    for candidate in /usr/lib/jvm/*/bin/java; do
      if "$candidate" -version 2>&1 | grep -Eq 'version "(2[1-9]|[3-9][0-9])'; then java=$candidate; fi
    done
  fi
  echo "$java"
}

# machine_line: the machine and the JVM ($JAVA) a run had, with the time.
machine_line() {
  echo "## machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $("$JAVA" -version 2>&1 | head -1), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
now() { date +%s.%N; }
# secs FROM TO: the seconds between two `now`s, to a tenth.
secs() { python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }

# CPU accounting over a stretch of time, for a script that keeps its servers' pids in the
# associative array node_pid (id -> pid): cpu_mark before, cpu_report LABEL after. Reports in
# cores: the servers (cpu_nodes, and each one), this script's children that ended meanwhile (a
# load generator, pollers: cpu_children), kernel interrupts (much of the loopback network work:
# cpu_irq) and anything else (cpu_other; above 0.15 cores sets cpu_disturbed). cpu_ticks holds the
# servers' CPU ticks over the stretch and cpu_wall its seconds.
# node_ticks: each node's CPU ticks now, into the associative array named by $1 (node id -> ticks).
node_ticks() {
  local -n into=$1
  local i
  into=()
  for i in "${!node_pid[@]}"; do into[$i]=$(proc_ticks "${node_pid[$i]}"); done
}
declare -A mark_node=()
mark_threads_file=""
cpu_mark() {
  node_ticks mark_node
  mark_threads_file=$(mktemp)
  python3 "$(dirname "${BASH_SOURCE[0]}")/threadcpu.py" mark "$mark_threads_file" "${node_pid[@]}" 2>/dev/null || true
  mark_children=$(children_ticks)
  read -r mark_busy mark_irq <<<"$(machine_ticks)"
  mark_time=$(now)
}
cpu_nodes="?" cpu_other="?" cpu_disturbed=0 cpu_ticks=0 cpu_wall=0
cpu_report() {
  local n=0 c busy irq hz wall i
  local -A now_node=()
  node_ticks now_node
  for i in "${!now_node[@]}"; do n=$(( n + now_node[$i] - ${mark_node[$i]:-0} )); done
  c=$(( $(children_ticks) - mark_children ))
  read -r busy irq <<<"$(machine_ticks)"
  busy=$(( busy - mark_busy ))
  irq=$(( irq - mark_irq ))
  hz=$(getconf CLK_TCK)
  wall=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$mark_time" "$(now)")
  local line
  line=$(awk -v n="$n" -v c="$c" -v b="$busy" -v q="$irq" -v hz="$hz" -v w="$wall" 'BEGIN {
    o = b - n - c; if (o < 0) o = 0
    printf "%.2f %.2f %.2f %.2f", n / hz / w, c / hz / w, q / hz / w, o / hz / w }')
  read -r cpu_nodes cpu_children cpu_irq cpu_other <<<"$line"
  cpu_ticks=$n cpu_wall=$wall
  echo "## cpu over $1 (cores of $(nproc), $(printf '%.1f' "$wall") s): our nodes $cpu_nodes, load generator and tools $cpu_children, kernel interrupts $cpu_irq, anything else $cpu_other"
  local each=""
  for i in $(printf '%s\n' "${!now_node[@]}" | sort -n); do
    each+=" node $i $(awk -v t="$(( now_node[$i] - ${mark_node[$i]:-0} ))" -v hz="$hz" -v w="$wall" 'BEGIN {printf "%.2f", t / hz / w}'),"
  done
  echo "## cpu of each node (cores):${each%,}"
  # Each node's threads by name (at least 0.005 cores): which of its work took the CPU.
  for i in $(printf '%s\n' "${!now_node[@]}" | sort -n); do
    echo "##   node $i by thread: $(python3 "$(dirname "${BASH_SOURCE[0]}")/threadcpu.py" report "$mark_threads_file" "$wall" "${node_pid[$i]}" 2>/dev/null || echo '?')"
  done
  rm -f "$mark_threads_file"
  cpu_disturbed=0
  if awk -v o="$cpu_other" 'BEGIN {exit !(o > 0.15)}'; then
    echo "## NOTE: something else took $cpu_other cores meanwhile: disturbed"
    cpu_disturbed=1
  fi
}
