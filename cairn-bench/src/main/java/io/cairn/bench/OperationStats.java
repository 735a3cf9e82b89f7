package io.cairn.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import org.HdrHistogram.Recorder;

/**
 * The live, thread-safe tallies of one operation type: a latency recorder fed by every event loop
 * and counters of how requests ended.
 *
 * <p>Recording is wait-free and allocation-free: the HdrHistogram {@link Recorder} swaps between
 * two histograms under a writer-reader phaser, and the reporter thread takes interval histograms
 * from it once a second. Only successful requests (including a get's 404) enter the histogram.
 */
final class OperationStats {
  /** Latencies above this are clamped; it exceeds the longest allowed request timeout. */
  static final long HIGHEST_LATENCY_MICROS = TimeUnit.MINUTES.toMicros(10);

  private final Operation operation;
  private final Recorder latencyMicros = new Recorder(1, HIGHEST_LATENCY_MICROS, 3);
  private final AtomicLongArray outcomes = new AtomicLongArray(OutcomeCounts.SLOTS);

  OperationStats(Operation operation) {
    this.operation = operation;
  }

  Operation operation() {
    return operation;
  }

  Recorder latencyMicros() {
    return latencyMicros;
  }

  void onResponse(int status, long latencyNanos) {
    outcomes.incrementAndGet(OutcomeCounts.statusSlot(status));
    if (operation.isSuccess(status)) {
      long micros = Math.max(0, latencyNanos / 1_000);
      latencyMicros.recordValue(Math.min(micros, HIGHEST_LATENCY_MICROS));
    }
  }

  void onTimeout() {
    outcomes.incrementAndGet(OutcomeCounts.TIMEOUT);
  }

  void onConnectionLost() {
    outcomes.incrementAndGet(OutcomeCounts.CONNECTION);
  }

  void onProtocolError() {
    outcomes.incrementAndGet(OutcomeCounts.PROTOCOL);
  }

  OutcomeCounts snapshot() {
    long[] counts = new long[OutcomeCounts.SLOTS];
    for (int i = 0; i < counts.length; i++) {
      counts[i] = outcomes.get(i);
    }
    return new OutcomeCounts(operation, counts);
  }
}
