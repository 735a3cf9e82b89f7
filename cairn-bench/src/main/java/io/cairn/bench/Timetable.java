package io.cairn.bench;

/**
 * A fixed open-loop timetable: slot {@code k} (from 0) is due at {@code start + k / rate}
 * seconds, whatever happened to the requests before it.
 *
 * <p>Times are {@link System#nanoTime()} values. {@link #dueBy(long)} and {@link #intended(long)}
 * agree exactly: slot {@code k} is counted as due at {@code now} if and only if {@code intended(k)
 * <= now}, so no slot is ever sent before its time or counted twice.
 */
final class Timetable {
  private static final double NANOS_PER_SECOND = 1e9;

  private final long startNanos;
  private final double periodNanos;

  /**
   * @param startNanos when slot 0 is due
   * @param opsPerSecond slots per second; positive and finite
   */
  Timetable(long startNanos, double opsPerSecond) {
    if (!(opsPerSecond > 0) || Double.isInfinite(opsPerSecond)) {
      throw new IllegalArgumentException("rate must be positive and finite, got " + opsPerSecond);
    }
    this.startNanos = startNanos;
    this.periodNanos = NANOS_PER_SECOND / opsPerSecond;
  }

  long startNanos() {
    return startNanos;
  }

  /** When slot {@code k} is due; non-decreasing in {@code k}. */
  long intended(long slot) {
    if (slot < 0) {
      throw new IllegalArgumentException("negative slot " + slot);
    }
    return startNanos + (long) Math.floor(slot * periodNanos);
  }

  /** How many slots are due at {@code now}: the number of {@code k} with intended(k) <= now. */
  long dueBy(long nowNanos) {
    long elapsed = nowNanos - startNanos;
    if (elapsed < 0) {
      return 0;
    }
    long estimate = (long) Math.floor(elapsed / periodNanos) + 1;
    // The estimate is off by at most one or two slots from floating-point rounding; each loop
    // below moves at most that far, and stops at the first slot whose time disagrees.
    while (estimate > 0 && intended(estimate - 1) > nowNanos) {
      estimate--;
    }
    while (intended(estimate) <= nowNanos) {
      estimate++;
    }
    return estimate;
  }
}
