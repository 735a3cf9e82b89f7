package io.cairn.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An immutable snapshot of how the requests of one operation type ended, by status or failure.
 * Three kinds of ending: a success (the operation's answer, a get's 404 included), a shed request
 * ({@code 503}: the server refused it without running it, and says when to come back), and an
 * error (any other status, a timeout, a lost connection, a response that does not parse).
 */
final class OutcomeCounts {
  /** Slots 0..599 count responses by status; slot 0 also takes statuses outside [100, 600). */
  static final int STATUS_SLOTS = 600;
  /** Service Unavailable: Cairn's answer when it sheds load ({@code overloaded}). */
  static final int SHED_STATUS = 503;

  static final int TIMEOUT = STATUS_SLOTS;
  static final int CONNECTION = STATUS_SLOTS + 1;
  static final int PROTOCOL = STATUS_SLOTS + 2;
  static final int SLOTS = STATUS_SLOTS + 3;

  private final Operation operation;
  // Invariant: counts.length == SLOTS, every entry >= 0.
  private final long[] counts;

  OutcomeCounts(Operation operation, long[] counts) {
    if (counts.length != SLOTS) {
      throw new IllegalArgumentException("expected " + SLOTS + " slots, got " + counts.length);
    }
    this.operation = operation;
    this.counts = counts.clone();
  }

  static int statusSlot(int status) {
    return status >= 100 && status < STATUS_SLOTS ? status : 0;
  }

  /** The outcomes between an earlier snapshot and this one. */
  OutcomeCounts minus(OutcomeCounts earlier) {
    long[] diff = new long[SLOTS];
    for (int i = 0; i < SLOTS; i++) {
      diff[i] = counts[i] - earlier.counts[i];
    }
    return new OutcomeCounts(operation, diff);
  }

  long successes() {
    long sum = 0;
    for (int status = 1; status < STATUS_SLOTS; status++) {
      if (operation.isSuccess(status)) {
        sum += counts[status];
      }
    }
    return sum;
  }

  long notFound() {
    long sum = 0;
    for (int status = 1; status < STATUS_SLOTS; status++) {
      if (operation.isNotFound(status)) {
        sum += counts[status];
      }
    }
    return sum;
  }

  long shed() {
    return counts[SHED_STATUS];
  }

  /** Failures other than shedding. */
  long errors() {
    long sum = 0;
    for (int slot = 0; slot < SLOTS; slot++) {
      if (isError(slot)) {
        sum += counts[slot];
      }
    }
    return sum;
  }

  private boolean isError(int slot) {
    return slot >= STATUS_SLOTS || (slot != SHED_STATUS && !operation.isSuccess(slot));
  }

  /** Non-zero error counts keyed by status code, or "timeout", "connection", "protocol". */
  Map<String, Long> errorsByKind() {
    Map<String, Long> kinds = new LinkedHashMap<>();
    for (int slot = 0; slot < STATUS_SLOTS; slot++) {
      if (counts[slot] > 0 && isError(slot)) {
        kinds.put(slot == 0 ? "other-status" : Integer.toString(slot), counts[slot]);
      }
    }
    putIfPositive(kinds, "timeout", counts[TIMEOUT]);
    putIfPositive(kinds, "connection", counts[CONNECTION]);
    putIfPositive(kinds, "protocol", counts[PROTOCOL]);
    return kinds;
  }

  private static void putIfPositive(Map<String, Long> map, String key, long value) {
    if (value > 0) {
      map.put(key, value);
    }
  }
}
