package io.cairn.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The final result of a bench run, renderable as a text table or as JSON. {@code openLoop} is
 * null for a closed-loop run.
 */
record BenchReport(
    BenchSettings settings,
    Transport transport,
    double measuredSeconds,
    List<OperationReport> operations,
    OperationReport total,
    long connectFailures,
    long prefillSucceeded,
    long prefillFailed,
    OpenLoopReport openLoop) {

  BenchReport {
    operations = List.copyOf(operations);
  }

  /**
   * Failed requests (errors and shed) and failed connects over everything attempted; 1 if
   * nothing completed.
   */
  double errorRatio() {
    long failures = total.errors() + total.shed() + connectFailures;
    long attempts = total.count() + failures;
    return attempts == 0 ? 1.0 : (double) failures / attempts;
  }

  String toText() {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            Locale.ROOT,
            "%n%-7s %11s %11s %8s %8s %9s %8s %8s %8s %8s %9s%n",
            "op",
            "count",
            "ops/s",
            "errors",
            "shed",
            "notfound",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms"));
    for (OperationReport op : operations) {
      appendRow(out, op);
    }
    appendRow(out, total);
    out.append(
        String.format(
            Locale.ROOT,
            "measured %.3f s, %d connections on %d %s threads, connect failures %d,"
                + " error ratio %.5f%n",
            measuredSeconds,
            settings.connections(),
            settings.threads(),
            transport,
            connectFailures,
            errorRatio()));
    if (openLoop != null) {
      out.append(
          String.format(
              Locale.ROOT,
              "open loop: target %.1f ops/s, offered %.1f ops/s (%d due), sent on time %d,"
                  + " delayed %d (%.2f%%), unsent %d (%.2f%%; backlog bound %d)%n",
              openLoop.targetOpsPerSecond(),
              openLoop.offeredOpsPerSecond(),
              openLoop.scheduled(),
              openLoop.sentOnTime(),
              openLoop.sentDelayed(),
              openLoop.delayedPercent(),
              openLoop.unsent(),
              openLoop.unsentPercent(),
              openLoop.maxBacklog()));
    }
    if (settings.prefill()) {
      out.append(
          String.format(
              Locale.ROOT, "prefill: %d written, %d failed%n", prefillSucceeded, prefillFailed));
    }
    for (OperationReport op : operations) {
      if (!op.errorsByKind().isEmpty()) {
        out.append(op.name()).append(" errors: ").append(new TreeMap<>(op.errorsByKind()));
        out.append(System.lineSeparator());
      }
    }
    return out.toString();
  }

  private static void appendRow(StringBuilder out, OperationReport op) {
    out.append(
        String.format(
            Locale.ROOT,
            "%-7s %11d %11.1f %8d %8d %9d %8.3f %8.3f %8.3f %8.3f %9.3f%n",
            op.name(),
            op.count(),
            op.throughputOpsPerSecond(),
            op.errors(),
            op.shed(),
            op.notFound(),
            op.p50Millis(),
            op.p95Millis(),
            op.p99Millis(),
            op.p999Millis(),
            op.maxMillis()));
  }

  String toJson() {
    StringBuilder j = new StringBuilder(2048);
    j.append("{\n  \"settings\": {");
    j.append("\"urls\": [");
    for (int i = 0; i < settings.targets().size(); i++) {
      j.append(i == 0 ? "" : ", ").append(string(settings.targets().get(i).toString()));
    }
    j.append("], \"connections\": ").append(settings.connections());
    j.append(", \"threads\": ").append(settings.threads());
    j.append(", \"transport\": ").append(string(transport.toString()));
    j.append(", \"mix\": ").append(string(settings.mix().toString()));
    j.append(", \"keys\": ").append(settings.keyCount());
    j.append(", \"distribution\": ").append(string(settings.distribution().toString()));
    j.append(", \"zipfTheta\": ").append(number(settings.zipfTheta()));
    j.append(", \"valueSizeBytes\": ").append(settings.valueSizeBytes());
    j.append(", \"durationSeconds\": ").append(number(settings.duration().toNanos() / 1e9));
    j.append(", \"warmupSeconds\": ").append(number(settings.warmup().toNanos() / 1e9));
    j.append(", \"prefill\": ").append(settings.prefill());
    j.append(", \"keyPrefix\": ").append(string(settings.keyPrefix()));
    j.append(", \"query\": ").append(string(settings.query()));
    j.append(", \"seed\": ").append(settings.seed());
    j.append(", \"rateOpsPerSecond\": ").append(number(settings.rateOpsPerSecond()));
    j.append(", \"maxBacklog\": ").append(settings.maxBacklog());
    j.append("},\n");
    j.append("  \"measuredSeconds\": ").append(number(measuredSeconds)).append(",\n");
    j.append("  \"connectFailures\": ").append(connectFailures).append(",\n");
    j.append("  \"prefill\": {\"written\": ").append(prefillSucceeded);
    j.append(", \"failed\": ").append(prefillFailed).append("},\n");
    j.append("  \"errorRatio\": ").append(number(errorRatio())).append(",\n");
    if (openLoop != null) {
      j.append("  \"openLoop\": {\"targetOpsPerSecond\": ");
      j.append(number(openLoop.targetOpsPerSecond()));
      j.append(", \"offeredOpsPerSecond\": ").append(number(openLoop.offeredOpsPerSecond()));
      j.append(", \"scheduled\": ").append(openLoop.scheduled());
      j.append(", \"sentOnTime\": ").append(openLoop.sentOnTime());
      j.append(", \"sentDelayed\": ").append(openLoop.sentDelayed());
      j.append(", \"unsent\": ").append(openLoop.unsent());
      j.append(", \"maxBacklog\": ").append(openLoop.maxBacklog());
      j.append("},\n");
    }
    j.append("  \"operations\": {");
    for (int i = 0; i < operations.size(); i++) {
      OperationReport op = operations.get(i);
      j.append(i == 0 ? "\n    " : ",\n    ").append(string(op.name())).append(": ");
      appendJson(j, op);
    }
    j.append("\n  },\n  \"total\": ");
    appendJson(j, total);
    j.append("\n}\n");
    return j.toString();
  }

  private static void appendJson(StringBuilder j, OperationReport op) {
    j.append("{\"count\": ").append(op.count());
    j.append(", \"throughputOpsPerSecond\": ").append(number(op.throughputOpsPerSecond()));
    j.append(", \"errors\": ").append(op.errors());
    j.append(", \"shed\": ").append(op.shed());
    j.append(", \"notFound\": ").append(op.notFound());
    j.append(", \"errorsByKind\": {");
    boolean first = true;
    for (Map.Entry<String, Long> e : new TreeMap<>(op.errorsByKind()).entrySet()) {
      j.append(first ? "" : ", ").append(string(e.getKey())).append(": ").append(e.getValue());
      first = false;
    }
    j.append("}, \"latencyMillis\": {");
    j.append("\"p50\": ").append(number(op.p50Millis()));
    j.append(", \"p95\": ").append(number(op.p95Millis()));
    j.append(", \"p99\": ").append(number(op.p99Millis()));
    j.append(", \"p99.9\": ").append(number(op.p999Millis()));
    j.append(", \"max\": ").append(number(op.maxMillis()));
    j.append("}}");
  }

  private static String number(double value) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      return "null";
    }
    return String.format(Locale.ROOT, "%.6f", value).replaceAll("0+$", "").replaceAll("\\.$", ".0");
  }

  static String string(String value) {
    StringBuilder s = new StringBuilder(value.length() + 2).append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> s.append("\\\"");
        case '\\' -> s.append("\\\\");
        case '\n' -> s.append("\\n");
        case '\r' -> s.append("\\r");
        case '\t' -> s.append("\\t");
        default -> {
          if (c < 0x20) {
            s.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            s.append(c);
          }
        }
      }
    }
    return s.append('"').toString();
  }
}
