#!/usr/bin/env bash
# One Cairn node (build B), plain HTTP or HTTPS, measured with wrk. Usage: single-node.sh plain|https PASS
# Run under the machine lock: flock /work/machine.lock single-node.sh https 1
set -uo pipefail
mode=$1 pass=$2
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
JAVA=$JAVA_HOME/bin/java
JAR=/work/main/cairn-cli/target/cairn.jar
B=/work/main/bench
R=$B/results/tls-20261202
DURATION=${DURATION:-15s} WARMUP=${WARMUP:-3s} HS_DURATION=${HS_DURATION:-10s}
KEYS=100000 SIZE=100
source $B/lib.sh
out=$R/single-$mode-$pass.txt; [[ -n "${PROVIDER_OPT:-}" ]] && cmd_extra=$PROVIDER_OPT
exec > >(tee "$out") 2>&1
work=$(mktemp -d /tmp/cairn-tls-single.XXXXXX)
port=$(free_port)
cmd=($JAVA --enable-native-access=ALL-UNNAMED ${cmd_extra:-} -jar $JAR start --http-port $port --data-dir $work/data)
scheme=http
if [[ $mode == https ]]; then
  $JAVA -jar $JAR certs init --dir $work/ca >/dev/null
  $JAVA -jar $JAR certs issue --ca $work/ca --node 1 --host 127.0.0.1 --out $work/cert >/dev/null
  cmd+=(--set http.tls.cert=$work/cert/node.crt --set http.tls.key=$work/cert/node.key)
  scheme=https
fi
url=$scheme://127.0.0.1:$port
machine_info
echo "# $($JAVA -jar $JAR --version) ($JAR, $($JAVA -version 2>&1 | head -1)), $(git -C /work/main rev-parse --short HEAD)"
echo "# $(wrk --version 2>&1 | head -1); $(openssl version)"
echo "# mode=$mode pass=$pass keys=$KEYS value_size=$SIZE duration=$DURATION warmup=$WARMUP"
[[ $mode == https ]] && echo "# certs: $JAVA -jar cairn.jar certs init --dir <tmp>/ca; $JAVA -jar cairn.jar certs issue --ca <tmp>/ca --node 1 --host 127.0.0.1 --out <tmp>/cert"
echo "# node: ${cmd[*]//$work/<tmp>}"
"${cmd[@]}" > $work/node.log 2>&1 &
pid=$!
cleanup() { stop_pid $pid; wait $pid 2>/dev/null; cp $work/node.log $R/single-$mode-$pass-node.log; rm -rf $work; }
trap cleanup EXIT
wait_until 120 curl -skf $url/health || { tail -30 $work/node.log; exit 1; }
echo "## /health: $(curl -sk $url/health)"
echo "## /admin/status: $(curl -sk $url/admin/status | python3 -c 'import json,sys; d=json.load(sys.stdin); print("https", d.get("https"), "cluster", d.get("cluster"))' 2>&1 | head -c 1500)"
echo "## curl -vk: $(curl -svk -o /dev/null $url/health 2>&1 | grep -E 'SSL connection|ALPN|HTTP/' | tr '\n' ' ')"
cpu() { awk '{print $14 + $15}' /proc/$pid/stat; }   # node utime+stime, clock ticks
tck=$(getconf CLK_TCK)
run() {  # run LABEL wrk-args...
  local label=$1; shift
  echo
  echo "## $label"
  echo "## command: wrk $*"
  load_note
  local c0=$(cpu) t0=$(date +%s.%N)
  wrk "$@"
  local c1=$(cpu) t1=$(date +%s.%N)
  echo "## node cpu: $(python3 -c "print('%.2f cores' % (($c1 - $c0) / $tck / ($t1 - $t0)))")"
}
echo
echo "## prefill: THREADS=2 wrk -t2 -c64 -d60s -s bench/results/tls-20261202/prefill.lua $url -- $KEYS $SIZE"
echo "##   (each wrk thread writes a flag file once it has its share; then wrk gets SIGINT, which ends it early)"
PREFILL_FLAG=$work/prefill THREADS=2 wrk -t2 -c64 -d60s -s $R/prefill.lua $url -- $KEYS $SIZE > $work/prefill.out 2>&1 &
wpid=$!
for _ in $(seq 1 600); do [[ -f $work/prefill.1 && -f $work/prefill.2 ]] && break; kill -0 $wpid 2>/dev/null || break; sleep 0.1; done
kill -INT $wpid 2>/dev/null; wait $wpid
grep -E '^RESULT|requests in|Non-2xx|errors' $work/prefill.out
wrk -t2 -c64 -d$WARMUP -s $B/wrk/put.lua $url -- $KEYS $SIZE > /dev/null
run "wrk put.lua" -t2 -c64 -d$DURATION --latency -s $B/wrk/put.lua $url -- $KEYS $SIZE
wrk -t2 -c64 -d$WARMUP -s $B/wrk/get.lua $url -- $KEYS $SIZE > /dev/null
run "wrk get.lua" -t2 -c64 -d$DURATION --latency -s $B/wrk/get.lua $url -- $KEYS $SIZE
wrk -t2 -c64 -d$WARMUP -H 'Connection: close' $url/health > /dev/null
run "new connection per request (GET /health, Connection: close)" -t2 -c64 -d$HS_DURATION --latency -H 'Connection: close' $url/health
run "keep-alive GET /health (same connections)" -t2 -c64 -d$HS_DURATION --latency $url/health
if [[ $mode == https ]]; then
  echo
  echo "## openssl s_time -connect 127.0.0.1:$port -new -time 10 (one connection at a time, full handshakes)"
  load_note
  openssl s_time -connect 127.0.0.1:$port -new -time 10 2>&1 | tr -d '*' | grep -vE '^\s*$'
  echo
  echo "## openssl s_time -connect 127.0.0.1:$port -reuse -time 10 (session resumption)"
  openssl s_time -connect 127.0.0.1:$port -reuse -time 10 2>&1 | tr -d '*' | grep -vE '^\s*$'
fi
echo
echo "## ss -s after: $(ss -s | grep -i tcp: )"
