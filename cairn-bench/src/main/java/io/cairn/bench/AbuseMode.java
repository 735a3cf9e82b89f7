package io.cairn.bench;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import picocli.CommandLine.ITypeConverter;

/** The ways {@code cairn abuse} misbehaves; each connection of a run does the same. */
enum AbuseMode {
  /** PUTs of large values back to back, whatever the answer (503s included). */
  FLOOD_LARGE("flood-large"),
  /** GETs of a large value written without pause; not one byte of the answers is ever read. */
  PIPELINE_NO_READ("pipeline-no-read"),
  /** Connections that send nothing at all. */
  IDLE("idle"),
  /** A request head sent one byte at a time, never finished. */
  SLOWLORIS("slowloris");

  private final String label;

  AbuseMode(String label) {
    this.label = label;
  }

  static AbuseMode parse(String text) {
    for (AbuseMode mode : values()) {
      if (mode.label.equalsIgnoreCase(text.strip())) {
        return mode;
      }
    }
    throw new IllegalArgumentException(
        "unknown mode '"
            + text
            + "', expected one of "
            + Arrays.stream(values()).map(AbuseMode::toString).collect(Collectors.joining(", ")));
  }

  @Override
  public String toString() {
    return label.toLowerCase(Locale.ROOT);
  }

  /** Lets picocli accept the hyphenated names. */
  static final class Converter implements ITypeConverter<AbuseMode> {
    @Override
    public AbuseMode convert(String value) {
      return parse(value);
    }
  }
}
