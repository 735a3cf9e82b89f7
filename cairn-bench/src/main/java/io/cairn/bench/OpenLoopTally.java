package io.cairn.bench;

import java.util.concurrent.atomic.LongAdder;

/**
 * What happened to the slots of an open-loop run, summed over every event loop's dispatcher:
 * how many came due, and whether each was sent on time, sent late (it waited for a free
 * connection) or never sent (dropped from a full backlog). Thread-safe.
 */
final class OpenLoopTally {
  private final LongAdder scheduled = new LongAdder();
  private final LongAdder sentOnTime = new LongAdder();
  private final LongAdder sentDelayed = new LongAdder();
  private final LongAdder unsent = new LongAdder();

  void onScheduled(long slots) {
    scheduled.add(slots);
  }

  void onSentOnTime() {
    sentOnTime.increment();
  }

  void onSentDelayed() {
    sentDelayed.increment();
  }

  void onUnsent(long slots) {
    unsent.add(slots);
  }

  Snapshot snapshot() {
    return new Snapshot(scheduled.sum(), sentOnTime.sum(), sentDelayed.sum(), unsent.sum());
  }

  /**
   * The tallies at one moment. Slots that are due but still wait in a backlog are in
   * {@code scheduled} only, so scheduled >= sentOnTime + sentDelayed + unsent.
   */
  record Snapshot(long scheduled, long sentOnTime, long sentDelayed, long unsent) {
    Snapshot minus(Snapshot earlier) {
      return new Snapshot(
          scheduled - earlier.scheduled,
          sentOnTime - earlier.sentOnTime,
          sentDelayed - earlier.sentDelayed,
          unsent - earlier.unsent);
    }
  }
}
