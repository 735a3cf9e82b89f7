package io.cairn.bench;

import java.time.Duration;
import java.util.List;

/** The validated parameters of one {@code cairn abuse} run. */
record AbuseSettings(
    List<Target> targets,
    AbuseMode mode,
    int connections,
    Duration duration,
    int valueSizeBytes,
    int keys,
    Duration byteInterval,
    Duration reconnectDelay,
    Duration connectTimeout,
    long seed,
    String token) {

  AbuseSettings {
    targets = List.copyOf(targets);
  }
}
