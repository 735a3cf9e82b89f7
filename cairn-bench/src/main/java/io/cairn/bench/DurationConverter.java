package io.cairn.bench;

import java.time.Duration;
import picocli.CommandLine.ITypeConverter;

/**
 * Parses durations as every Cairn setting does ({@link io.cairn.clock.Durations}): {@code 30s},
 * {@code 500ms}, {@code 2m}, {@code 1h}, {@code 1m30s}, {@code 1.5s}, {@code 2d}, a bare number of
 * seconds, or ISO-8601 such as {@code PT30S}.
 */
final class DurationConverter implements ITypeConverter<Duration> {

  @Override
  public Duration convert(String value) {
    return parse(value);
  }

  /** The grammar every Cairn duration uses ({@link io.cairn.clock.Durations}); a bare number is seconds. */
  static Duration parse(String text) {
    return io.cairn.clock.Durations.parse(text, 1_000);
  }
}
