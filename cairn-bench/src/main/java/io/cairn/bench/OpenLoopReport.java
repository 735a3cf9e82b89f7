package io.cairn.bench;

/**
 * What an open-loop run offered over the measured window: the target rate, how many requests
 * came due, and how many of them went out on time, went out late (every connection was busy, so
 * they waited in the backlog; their latency includes the wait) or never went out (dropped from
 * a full backlog).
 */
record OpenLoopReport(
    double targetOpsPerSecond,
    long maxBacklog,
    long scheduled,
    long sentOnTime,
    long sentDelayed,
    long unsent,
    double measuredSeconds) {

  static OpenLoopReport of(
      double targetOpsPerSecond,
      long maxBacklog,
      OpenLoopTally.Snapshot window,
      double measuredSeconds) {
    return new OpenLoopReport(
        targetOpsPerSecond,
        maxBacklog,
        window.scheduled(),
        window.sentOnTime(),
        window.sentDelayed(),
        window.unsent(),
        measuredSeconds);
  }

  /** Requests that came due per second: the load actually offered. */
  double offeredOpsPerSecond() {
    return measuredSeconds > 0 ? scheduled / measuredSeconds : 0.0;
  }

  double delayedPercent() {
    return percentOfScheduled(sentDelayed);
  }

  double unsentPercent() {
    return percentOfScheduled(unsent);
  }

  private double percentOfScheduled(long n) {
    return scheduled == 0 ? 0.0 : 100.0 * n / scheduled;
  }
}
