#!/usr/bin/env bash
# Runs every measurement of bench/results/auth-20261202 in order, each under the machine lock.
# Usage: run-all.sh [single] [cluster] [PASSES="1 2"]
set -uo pipefail
R=/work/auth-bench/bench/results/auth-20261202
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
PASSES=${PASSES:-"1 2"}
parts=${*:-single cluster}
cd /work/auth-bench
log() { echo "=== $(date -u +%H:%M:%S) $*" | tee -a $R/run-all-times.txt; }
if [[ " $parts " == *" single "* ]]; then
  for pass in $PASSES; do
    for mode in off on-admin on-stored https-stored; do
      log "single $mode $pass"
      flock /work/machine.lock $R/single-node.sh $mode $pass > /dev/null 2>&1 || log "single $mode $pass exited $?"
    done
  done
fi
if [[ " $parts " == *" cluster "* ]]; then
  common=(DURATION=15s WARMUP=3s CLIENTS=wrk PUT_QUORUMS=2 GET_QUORUMS=2 DOWN_QUORUMS=
    HTTP_BASE=7810 INTERNODE_BASE=7820 KEEP_LOGS=1 RESULTS_DIR=$R)
  for pass in $PASSES; do
    log "cluster auth-on $pass"
    flock /work/machine.lock env "${common[@]}" TAG=-auth-on-$pass $R/cairn-cluster.sh > /dev/null 2>&1 || log "cluster on $pass exited $?"
    log "cluster auth-off $pass"
    flock /work/machine.lock env "${common[@]}" NODE_SETS=auth.enabled=false NO_TOKEN=1 TAG=-auth-off-$pass $R/cairn-cluster.sh > /dev/null 2>&1 || log "cluster off $pass exited $?"
  done
fi
log done
