package io.cairn.bench;

import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * The measured results of one operation type, or of all together, over the measured window:
 * {@code count} successes (their rate is the goodput), {@code shed} 503 answers and
 * {@code errors} of every other kind.
 */
record OperationReport(
    String name,
    long count,
    double throughputOpsPerSecond,
    long notFound,
    long errors,
    long shed,
    Map<String, Long> errorsByKind,
    double p50Millis,
    double p95Millis,
    double p99Millis,
    double p999Millis,
    double maxMillis) {

  OperationReport {
    errorsByKind = Map.copyOf(errorsByKind);
  }

  static OperationReport of(
      String name,
      long count,
      long notFound,
      long errors,
      long shed,
      Map<String, Long> errorsByKind,
      Histogram latencyMicros,
      double measuredSeconds) {
    return new OperationReport(
        name,
        count,
        measuredSeconds > 0 ? count / measuredSeconds : 0.0,
        notFound,
        errors,
        shed,
        errorsByKind,
        millisAt(latencyMicros, 50.0),
        millisAt(latencyMicros, 95.0),
        millisAt(latencyMicros, 99.0),
        millisAt(latencyMicros, 99.9),
        latencyMicros.getTotalCount() == 0 ? 0.0 : latencyMicros.getMaxValue() / 1000.0);
  }

  private static double millisAt(Histogram latencyMicros, double percentile) {
    if (latencyMicros.getTotalCount() == 0) {
      return 0.0;
    }
    return latencyMicros.getValueAtPercentile(percentile) / 1000.0;
  }
}
