#!/usr/bin/env bash
# One Cairn node, measured with wrk (PUT then GET, 100 B values, -t2 -c64, 15 s after 3 s warm-up).
# Usage: single-node.sh MODE PASS, MODE one of
#   off           plain HTTP, --set auth.enabled=false, no Authorization header sent
#   on-admin      plain HTTP, auth on (default), CAIRN_TOKEN = <data dir>/auth/admin.token
#   on-stored     plain HTTP, auth on, CAIRN_TOKEN = a stored token (POST /admin/auth/tokens,
#                 roles write:default), checked through the token cache / token store
#   https-stored  HTTPS (certs init + certs issue --node 1 --host 127.0.0.1), auth on, stored token
# Run under the machine lock: flock /work/machine.lock single-node.sh on-stored 1
# Adapted from bench/results/tls-20261202/single-node.sh (same prefill, warm-up and runs, without the
# /health handshake runs).
set -uo pipefail
mode=$1 pass=$2
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
JAVA=$JAVA_HOME/bin/java
W=${W:-/work/auth-bench}
JAR=$W/cairn-cli/target/cairn.jar
B=$W/bench
R=${R:-$B/results/auth-20261202}
DURATION=${DURATION:-15s} WARMUP=${WARMUP:-3s}
KEYS=100000 SIZE=100
source $B/lib.sh
unset CAIRN_TOKEN
out=$R/single-$mode-$pass.txt
exec > >(tee "$out") 2>&1
work=$(mktemp -d /tmp/cairn-auth-single.XXXXXX)
port=$(free_port)
cmd=($JAVA --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -jar $JAR start
  --http-port $port --data-dir $work/data)
scheme=http
case $mode in
  off) cmd+=(--set auth.enabled=false) ;;
  on-admin|on-stored) ;;
  https-stored)
    $JAVA -jar $JAR certs init --dir $work/ca >/dev/null
    $JAVA -jar $JAR certs issue --ca $work/ca --node 1 --host 127.0.0.1 --out $work/cert >/dev/null
    cmd+=(--set http.tls.cert=$work/cert/node.crt --set http.tls.key=$work/cert/node.key)
    scheme=https ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
url=$scheme://127.0.0.1:$port
machine_info
echo "# $($JAVA -jar $JAR --version) ($JAR, $($JAVA -version 2>&1 | head -1)), $(git -C $W rev-parse --short HEAD)"
echo "# $(wrk --version 2>&1 | head -1)"
echo "# mode=$mode pass=$pass keys=$KEYS value_size=$SIZE duration=$DURATION warmup=$WARMUP"
[[ $mode == https-stored ]] && echo "# certs: java -jar cairn.jar certs init --dir <tmp>/ca; java -jar cairn.jar certs issue --ca <tmp>/ca --node 1 --host 127.0.0.1 --out <tmp>/cert"
echo "# node: ${cmd[*]//$work/<tmp>}"
"${cmd[@]}" > $work/node.log 2>&1 &
pid=$!
cleanup() { stop_pid $pid; wait $pid 2>/dev/null; cp $work/node.log $R/single-$mode-$pass-node.log; rm -rf $work; }
trap cleanup EXIT
wait_until 120 command curl -skf $url/health || { tail -30 $work/node.log; exit 1; }
echo "## /health: $(command curl -sk $url/health)"
admin=""
if [[ $mode != off ]]; then
  wait_until 10 test -r $work/data/auth/admin.token || { echo "no admin.token"; exit 1; }
  admin=$(cat $work/data/auth/admin.token)
fi
acurl() { if [[ -n $admin ]]; then command curl -sk -H "Authorization: Bearer $admin" "$@"; else command curl -sk "$@"; fi; }
echo "## /admin/status: $(acurl $url/admin/status | python3 -c 'import json,sys; d=json.load(sys.stdin); print("https", d.get("https"), "keys", sorted(d))' 2>&1 | head -c 1500)"
echo "## GET /kv/x without a token: $(command curl -sk -o /dev/null -w '%{http_code}' $url/kv/x)"
case $mode in
  off) ;;
  on-admin) export CAIRN_TOKEN=$admin; echo "## token: the node's admin credential (<data dir>/auth/admin.token)" ;;
  *stored)
    echo "## create: curl -H 'Authorization: Bearer <admin>' -X POST -H 'Content-Type: application/json' --data '{\"name\":\"bench\",\"roles\":[\"write:default\"]}' $url/admin/auth/tokens"
    answer=$(acurl -X POST -H 'Content-Type: application/json' --data '{"name":"bench","roles":["write:default"]}' $url/admin/auth/tokens)
    echo "## answer (secret cut): $(echo "$answer" | python3 -c 'import json,sys; d=json.load(sys.stdin); d["token"]=d["token"][:24]+"..."; print(json.dumps(d))' 2>&1)"
    CAIRN_TOKEN=$(echo "$answer" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') || { echo "no token in: $answer"; exit 1; }
    export CAIRN_TOKEN
    echo "## whoami with it: $(command curl -sk -H "Authorization: Bearer $CAIRN_TOKEN" $url/admin/auth/whoami)" ;;
esac
echo "## curl PUT /kv/probe with the token (if any): $(command curl -sk -o /dev/null -w '%{http_code}' ${CAIRN_TOKEN:+-H "Authorization: Bearer $CAIRN_TOKEN"} -X PUT --data-binary probe $url/kv/probe)"
echo "## curl -vk: $(command curl -svk -o /dev/null $url/health 2>&1 | grep -E 'SSL connection|ALPN|HTTP/' | tr '\n' ' ')"
lookups() { acurl $url/metrics | grep -E '^cairn_auth_lookups_total' | tr '\n' ' '; }
cpu() { awk '{print $14 + $15}' /proc/$pid/stat; }   # node utime+stime, clock ticks
tck=$(getconf CLK_TCK)
run() {  # run LABEL wrk-args...
  local label=$1; shift
  echo
  echo "## $label"
  echo "## command: ${CAIRN_TOKEN:+CAIRN_TOKEN=<token> }wrk $*"
  local q0=$(cpu) s0=$(date +%s.%N)
  load_note
  local q1=$(cpu) s1=$(date +%s.%N)
  echo "## node cpu over those 2 s: $(python3 -c "print('%.2f cores' % (($q1 - $q0) / $tck / ($s1 - $s0)))")"
  [[ $mode != off ]] && echo "## auth lookups before: $(lookups)"
  local c0=$(cpu) t0=$(date +%s.%N)
  wrk "$@"
  local c1=$(cpu) t1=$(date +%s.%N)
  echo "## node cpu: $(python3 -c "print('%.2f cores' % (($c1 - $c0) / $tck / ($t1 - $t0)))")"
  [[ $mode != off ]] && echo "## auth lookups after: $(lookups)"
}
echo
echo "## prefill: ${CAIRN_TOKEN:+CAIRN_TOKEN=<token> }THREADS=2 wrk -t2 -c64 -d60s -s bench/results/auth-20261202/prefill.lua $url -- $KEYS $SIZE"
echo "##   (each wrk thread writes a flag file once it has its share; then wrk gets SIGINT, which ends it early)"
PREFILL_FLAG=$work/prefill THREADS=2 wrk -t2 -c64 -d60s -s "$(dirname "$0")/prefill.lua" $url -- $KEYS $SIZE > $work/prefill.out 2>&1 &
wpid=$!
for _ in $(seq 1 600); do [[ -f $work/prefill.1 && -f $work/prefill.2 ]] && break; kill -0 $wpid 2>/dev/null || break; sleep 0.1; done
kill -INT $wpid 2>/dev/null; wait $wpid
grep -E '^RESULT|requests in|Non-2xx|errors' $work/prefill.out
wrk -t2 -c64 -d$WARMUP -s $B/wrk/put.lua $url -- $KEYS $SIZE > /dev/null
run "wrk put.lua" -t2 -c64 -d$DURATION --latency -s $B/wrk/put.lua $url -- $KEYS $SIZE
wrk -t2 -c64 -d$WARMUP -s $B/wrk/get.lua $url -- $KEYS $SIZE > /dev/null
run "wrk get.lua" -t2 -c64 -d$DURATION --latency -s $B/wrk/get.lua $url -- $KEYS $SIZE
echo
echo "## node log lines with WARN/ERROR/Exception: $(grep -cE 'WARN|ERROR|Exception' $work/node.log)"
grep -E 'WARN|ERROR|Exception' $work/node.log | head -5
true
