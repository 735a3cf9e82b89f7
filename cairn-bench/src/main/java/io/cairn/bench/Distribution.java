package io.cairn.bench;

import java.util.Locale;
import picocli.CommandLine.ITypeConverter;

/** How keys are drawn: every key equally likely, or a few hot keys and a long cold tail. */
enum Distribution {
  UNIFORM,
  ZIPFIAN;

  static Distribution parse(String text) {
    for (Distribution d : values()) {
      if (d.name().equalsIgnoreCase(text.strip())) {
        return d;
      }
    }
    throw new IllegalArgumentException(
        "unknown distribution '" + text + "', expected uniform or zipfian");
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Lets picocli accept the lower-case names. */
  static final class Converter implements ITypeConverter<Distribution> {
    @Override
    public Distribution convert(String value) {
      return parse(value);
    }
  }
}
