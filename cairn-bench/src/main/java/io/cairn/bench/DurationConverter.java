package io.cairn.bench;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;

/**
 * Parses durations written as {@code 30s}, {@code 500ms}, {@code 2m}, {@code 1h}, {@code 1m30s},
 * {@code 1.5s}, a bare number of seconds, or ISO-8601 such as {@code PT30S}.
 */
final class DurationConverter implements ITypeConverter<Duration> {
  private static final Pattern PART = Pattern.compile("(\\d{1,9}(?:\\.\\d{1,9})?)(ms|s|m|h)");
  private static final Pattern BARE_SECONDS = Pattern.compile("\\d{1,9}(?:\\.\\d{1,9})?");

  @Override
  public Duration convert(String value) {
    return parse(value);
  }

  static Duration parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("duration is empty; expected e.g. 30s, 500ms, 2m");
    }
    String s = text.strip();
    if (s.length() > 64) {
      throw new IllegalArgumentException("duration '" + s + "' is too long");
    }
    if (s.startsWith("P") || s.startsWith("p")) {
      try {
        return nonNegative(Duration.parse(s), text);
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException("bad ISO-8601 duration '" + text + "'", e);
      }
    }
    if (BARE_SECONDS.matcher(s).matches()) {
      return scaled(s, 1_000_000_000L);
    }
    Matcher m = PART.matcher(s);
    Duration total = Duration.ZERO;
    int at = 0;
    while (at < s.length()) {
      if (!m.find(at) || m.start() != at) {
        throw new IllegalArgumentException(
            "bad duration '" + text + "'; expected e.g. 30s, 500ms, 2m, 1h or 1m30s");
      }
      total = total.plus(scaled(m.group(1), unitNanos(m.group(2))));
      at = m.end();
    }
    return total;
  }

  private static long unitNanos(String unit) {
    return switch (unit) {
      case "ms" -> 1_000_000L;
      case "s" -> 1_000_000_000L;
      case "m" -> 60_000_000_000L;
      case "h" -> 3_600_000_000_000L;
      default -> throw new IllegalArgumentException("unknown duration unit " + unit);
    };
  }

  private static Duration scaled(String number, long unitNanos) {
    double nanos = Double.parseDouble(number) * unitNanos;
    return Duration.ofNanos(Math.round(nanos));
  }

  private static Duration nonNegative(Duration d, String text) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("duration '" + text + "' is negative");
    }
    return d;
  }
}
