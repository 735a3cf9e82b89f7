package io.cairn.bench;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * What one bench run's connections share: the workload, the current phase, and the tallies the
 * reporter reads. Every member is immutable or thread-safe.
 */
final class RunState {
  /** Connections send only in PREFILL and RUN; IDLE and STOP keep them quiet. */
  enum Phase {
    IDLE,
    PREFILL,
    RUN,
    STOP
  }

  private final OperationMix mix;
  private final KeyChooser keys;
  private final long keyCount;
  private final long requestTimeoutNanos;
  private final OperationStats[] stats = new OperationStats[Operation.values().length];
  private final LongAdder connectFailures = new LongAdder();
  private final OpenLoopTally openLoop = new OpenLoopTally();
  // Invariant: keys below min(nextPrefillKey, keyCount) have been claimed by exactly one request.
  private final AtomicLong nextPrefillKey = new AtomicLong();
  private final LongAdder prefillSucceeded = new LongAdder();
  private final LongAdder prefillFailed = new LongAdder();
  private volatile Phase phase = Phase.IDLE;

  RunState(OperationMix mix, KeyChooser keys, long keyCount, long requestTimeoutNanos) {
    this.mix = mix;
    this.keys = keys;
    this.keyCount = keyCount;
    this.requestTimeoutNanos = requestTimeoutNanos;
    for (Operation op : Operation.values()) {
      stats[op.ordinal()] = new OperationStats(op);
    }
  }

  OperationMix mix() {
    return mix;
  }

  KeyChooser keys() {
    return keys;
  }

  long requestTimeoutNanos() {
    return requestTimeoutNanos;
  }

  /** The open-loop dispatchers' tally; stays at zero in a closed loop. */
  OpenLoopTally openLoop() {
    return openLoop;
  }

  OperationStats stats(Operation op) {
    return stats[op.ordinal()];
  }

  Phase phase() {
    return phase;
  }

  void phase(Phase next) {
    phase = next;
  }

  void onConnectFailure() {
    connectFailures.increment();
  }

  long connectFailures() {
    return connectFailures.sum();
  }

  /** Returns the next key to prefill, or -1 once every key has been handed out. */
  long claimPrefillKey() {
    if (nextPrefillKey.get() >= keyCount) {
      return -1;
    }
    long key = nextPrefillKey.getAndIncrement();
    return key < keyCount ? key : -1;
  }

  void onPrefillResult(boolean success) {
    (success ? prefillSucceeded : prefillFailed).increment();
  }

  long prefillSucceeded() {
    return prefillSucceeded.sum();
  }

  long prefillFailed() {
    return prefillFailed.sum();
  }
}
