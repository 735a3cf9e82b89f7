#!/usr/bin/env bash
# Passes 3 and 4 of the single-node modes, added after passes 1-2 (run-all.sh) were seen to differ
# by up to 30 % for one mode. Pass 3 in reverse order, pass 4 in the order of run-all.sh.
set -uo pipefail
R=/work/auth-bench/bench/results/auth-20261202
log() { echo "=== $(date -u +%H:%M:%S) $*" | tee -a $R/run-all-times.txt; }
until grep -q ' done$' $R/run-all-times.txt; do sleep 5; done
for spec in "3 https-stored on-stored on-admin off" "4 off on-admin on-stored https-stored"; do
  set -- $spec; pass=$1; shift
  for mode in "$@"; do
    log "single $mode $pass"
    flock /work/machine.lock $R/single-node.sh $mode $pass > /dev/null 2>&1 || log "single $mode $pass exited $?"
  done
done
log "more done"
