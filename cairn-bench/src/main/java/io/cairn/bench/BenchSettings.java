package io.cairn.bench;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The validated parameters of one bench run. {@code rateOpsPerSecond} 0 means a closed loop;
 * otherwise the run is open-loop at that total rate, with at most {@code maxBacklog} due requests
 * waiting for a free connection.
 */
record BenchSettings(
    List<Target> targets,
    int connections,
    int threads,
    OperationMix mix,
    long keyCount,
    Distribution distribution,
    double zipfTheta,
    int valueSizeBytes,
    Duration duration,
    Duration warmup,
    boolean prefill,
    String keyPrefix,
    String query,
    List<Map.Entry<String, String>> headers,
    Duration requestTimeout,
    long seed,
    double rateOpsPerSecond,
    long maxBacklog) {

  BenchSettings {
    targets = List.copyOf(targets);
    headers = List.copyOf(headers);
  }
}
