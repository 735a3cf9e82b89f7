#!/usr/bin/env bash
# A third cluster pair (off first this time), added after passes 1-2 disagreed by up to 30 %.
set -uo pipefail
R=/work/auth-bench/bench/results/auth-20261202
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
cd /work/auth-bench
log() { echo "=== $(date -u +%H:%M:%S) $*" | tee -a $R/run-all-times.txt; }
until grep -q ' more done$' $R/run-all-times.txt; do sleep 5; done
common=(DURATION=15s WARMUP=3s CLIENTS=wrk PUT_QUORUMS=2 GET_QUORUMS=2 DOWN_QUORUMS=
  HTTP_BASE=7810 INTERNODE_BASE=7820 KEEP_LOGS=1 RESULTS_DIR=$R)
log "cluster auth-off 3"
flock /work/machine.lock env "${common[@]}" NODE_SETS=auth.enabled=false NO_TOKEN=1 TAG=-auth-off-3 $R/cairn-cluster.sh > /dev/null 2>&1 || log "cluster off 3 exited $?"
log "cluster auth-on 3"
flock /work/machine.lock env "${common[@]}" TAG=-auth-on-3 $R/cairn-cluster.sh > /dev/null 2>&1 || log "cluster on 3 exited $?"
log "cluster more done"
