#!/usr/bin/env bash
# Driver for the side-by-side run; each step takes the machine lock on its own.
set -u
cd /work/bench-wt2
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
export DURATION=15s WARMUP=3s VALUE_SIZES=100
R=bench/results/sidebyside-20261202
L=/work/machine.lock
ts() { date -u +%H:%M:%SZ; }
steps=${STEPS:-"1 2 3 4 5"}
for s in $steps; do
case $s in
1) echo "[$(ts)] step1 redis waiting"; flock $L bash -c 'echo "[$(date -u +%T)] step1 start"; bench/redis.sh' > $R/redis-7.0.15.txt 2>&1; echo "[$(ts)] step1 rc=$?";;
2) echo "[$(ts)] step2 etcd waiting"; flock $L bash -c 'echo "[$(date -u +%T)] step2 start"; bench/etcd.sh' > $R/etcd-3.4.23.txt 2>&1; echo "[$(ts)] step2 rc=$?";;
3) echo "[$(ts)] step3 cairn single waiting"; flock $L bash -c '
  source bench/lib.sh
  port=$(free_port); dd=$(mktemp -d /tmp/cairn-sbs-single.XXXXXX)
  CAIRN_NO_BUILD=1 bin/cairn start --http-port $port --data-dir $dd/data > '$R'/cairn-0.1.0-single-node-server.log 2>&1 &
  pid=$!
  echo "# server: /work/bench-wt2 at $(git rev-parse --short HEAD) (CAIRN_NO_BUILD=1 bin/cairn start --http-port $port --data-dir <tmp>), pid $pid"
  wait_until 60 curl -sf http://127.0.0.1:$port/health || { echo "node did not come up"; }
  OUT_DIR='$R'/cairn-0.1.0-single-node-json bench/cairn.sh http://127.0.0.1:$port; rc=$?
  echo "## node /metrics shards/threads lines:"; curl -s http://127.0.0.1:$port/metrics | grep -iE "cairn_write_(requests|groups)_total" | head -5
  # stop only the launcher pid we started and its java child
  child=$(pgrep -P $pid java || true)
  kill -TERM $pid $child 2>/dev/null; for i in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.2; done
  [ -n "$child" ] && { for i in $(seq 50); do kill -0 $child 2>/dev/null || break; sleep 0.2; done; kill -KILL $child 2>/dev/null; }
  rm -rf "$dd"; echo "## server stopped, data dir removed"; exit $rc' > $R/cairn-0.1.0-single-node.txt 2>&1; echo "[$(ts)] step3 rc=$?";;
4) echo "[$(ts)] step4 cairn cluster waiting"; flock $L env PUT_QUORUMS=2 GET_QUORUMS=2 DOWN_QUORUMS="" RESULTS_DIR=$R KEEP_LOGS=1 HTTP_BASE=7500 INTERNODE_BASE=7600 bench/cairn-cluster.sh > /tmp/bw2-step4.out 2>&1; echo "[$(ts)] step4 rc=$?";;
5) echo "[$(ts)] step5 etcd cluster waiting"; flock $L env RESULTS_DIR=$R CLIENT_BASE=23890 PEER_BASE=23900 bench/etcd-cluster.sh > /tmp/bw2-step5.out 2>&1; echo "[$(ts)] step5 rc=$?";;
esac
done
echo "[$(ts)] all done"
