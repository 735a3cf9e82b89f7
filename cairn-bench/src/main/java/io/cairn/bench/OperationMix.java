package io.cairn.bench;

import java.util.Arrays;
import java.util.Locale;
import java.util.StringJoiner;
import picocli.CommandLine.ITypeConverter;

/** Relative weights of get, put and delete, parsed from text such as {@code get=90,put=10}. */
final class OperationMix {
  /** Keeps the cumulative weight far from int overflow. */
  static final int MAX_WEIGHT = 1_000_000;

  // Invariant: weights[i] >= 0 for Operation.values()[i]; totalWeight == sum(weights) > 0.
  private final int[] weights;
  private final int totalWeight;

  private OperationMix(int[] weights) {
    this.weights = weights;
    this.totalWeight = Arrays.stream(weights).sum();
  }

  static OperationMix parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("operation mix is empty; expected e.g. get=90,put=10");
    }
    int[] weights = new int[Operation.values().length];
    boolean[] seen = new boolean[weights.length];
    for (String part : text.split(",", -1)) {
      int eq = part.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException(
            "bad mix entry '" + part.strip() + "'; expected op=weight, e.g. get=90");
      }
      Operation op = operation(part.substring(0, eq).strip());
      if (seen[op.ordinal()]) {
        throw new IllegalArgumentException("operation '" + op.label() + "' appears twice in mix");
      }
      seen[op.ordinal()] = true;
      weights[op.ordinal()] = weight(op, part.substring(eq + 1).strip());
    }
    if (Arrays.stream(weights).sum() == 0) {
      throw new IllegalArgumentException("operation mix '" + text + "' has no positive weight");
    }
    return new OperationMix(weights);
  }

  private static Operation operation(String name) {
    for (Operation op : Operation.values()) {
      if (op.label().equals(name.toLowerCase(Locale.ROOT))) {
        return op;
      }
    }
    throw new IllegalArgumentException(
        "unknown operation '" + name + "' in mix; expected get, put or delete");
  }

  private static int weight(Operation op, String text) {
    int value;
    try {
      value = Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "weight of '" + op.label() + "' must be an integer, got '" + text + "'", e);
    }
    if (value < 0 || value > MAX_WEIGHT) {
      throw new IllegalArgumentException(
          "weight of '" + op.label() + "' must be in [0, " + MAX_WEIGHT + "], got " + value);
    }
    return value;
  }

  int totalWeight() {
    return totalWeight;
  }

  int weight(Operation op) {
    return weights[op.ordinal()];
  }

  /** Maps a draw in {@code [0, totalWeight())} to an operation; equal draws give equal ops. */
  Operation pick(int draw) {
    int remaining = draw;
    for (Operation op : Operation.values()) {
      remaining -= weights[op.ordinal()];
      if (remaining < 0) {
        return op;
      }
    }
    throw new IllegalArgumentException("draw " + draw + " outside [0, " + totalWeight + ")");
  }

  @Override
  public String toString() {
    StringJoiner joiner = new StringJoiner(",");
    for (Operation op : Operation.values()) {
      if (weights[op.ordinal()] > 0) {
        joiner.add(op.label() + "=" + weights[op.ordinal()]);
      }
    }
    return joiner.toString();
  }

  /** Lets picocli turn {@code --mix} text into a mix, reporting bad input as a usage error. */
  static final class Converter implements ITypeConverter<OperationMix> {
    @Override
    public OperationMix convert(String value) {
      return parse(value);
    }
  }
}
