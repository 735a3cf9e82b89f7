package io.cairn.bench;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The validated parameters of one bench run. */
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
    long seed) {

  BenchSettings {
    targets = List.copyOf(targets);
    headers = List.copyOf(headers);
  }
}
