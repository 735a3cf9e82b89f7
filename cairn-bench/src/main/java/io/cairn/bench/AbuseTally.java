package io.cairn.bench;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * What an abusive client did and what the server answered: connections opened, refused and
 * closed under it (with how long they had lived), requests and bytes written, and the statuses
 * of the answers it read. Thread-safe; every connection's thread writes here.
 */
final class AbuseTally {
  private static final long HIGHEST_LIFETIME_MILLIS = TimeUnit.HOURS.toMillis(25);

  private final LongAdder opened = new LongAdder();
  private final LongAdder connectFailures = new LongAdder();
  private final LongAdder closedByServer = new LongAdder();
  private final LongAdder requests = new LongAdder();
  private final LongAdder bytes = new LongAdder();
  private final AtomicLong open = new AtomicLong();
  private final AtomicLong peakOpen = new AtomicLong();
  private final AtomicLongArray statuses = new AtomicLongArray(OutcomeCounts.STATUS_SLOTS);
  // Milliseconds from connect to the server's close, for connections the server closed.
  private final Histogram lifetimeMillis = new ConcurrentHistogram(HIGHEST_LIFETIME_MILLIS, 2);

  void onOpened() {
    opened.increment();
    peakOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
  }

  void onConnectFailure() {
    connectFailures.increment();
  }

  /** A connection ended; {@code byServer} when the server closed or reset it, not the run. */
  void onClosed(boolean byServer, long lifetimeNanos) {
    open.decrementAndGet();
    if (byServer) {
      closedByServer.increment();
      long millis = Math.max(0, TimeUnit.NANOSECONDS.toMillis(lifetimeNanos));
      lifetimeMillis.recordValue(Math.min(millis, HIGHEST_LIFETIME_MILLIS));
    }
  }

  void onSent(long requestCount, long byteCount) {
    requests.add(requestCount);
    bytes.add(byteCount);
  }

  void onStatus(int status) {
    statuses.incrementAndGet(OutcomeCounts.statusSlot(status));
  }

  long open() {
    return open.get();
  }

  long opened() {
    return opened.sum();
  }

  long connectFailures() {
    return connectFailures.sum();
  }

  long closedByServer() {
    return closedByServer.sum();
  }

  long requests() {
    return requests.sum();
  }

  long bytes() {
    return bytes.sum();
  }

  long peakOpen() {
    return peakOpen.get();
  }

  /** Answers read, by status; slot 0 holds statuses outside [100, 600). */
  Map<Integer, Long> statuses() {
    Map<Integer, Long> byStatus = new TreeMap<>();
    for (int status = 0; status < statuses.length(); status++) {
      long n = statuses.get(status);
      if (n > 0) {
        byStatus.put(status, n);
      }
    }
    return byStatus;
  }

  long lifetimeMillisAt(double percentile) {
    return lifetimeMillis.getTotalCount() == 0
        ? 0
        : lifetimeMillis.getValueAtPercentile(percentile);
  }

  String toText(AbuseMode mode, int connections, double seconds) {
    return String.format(
        Locale.ROOT,
        "%nabuse %s: %d connections for %.1f s%n"
            + "  connections opened %d (peak open %d), connect failures %d, closed by the server %d"
            + " (lifetime ms p50 %d, p99 %d, max %d)%n"
            + "  requests written %d (%.1f/s), bytes written %d (%.1f MiB/s)%n"
            + "  answers read by status %s%n",
        mode,
        connections,
        seconds,
        opened(),
        peakOpen(),
        connectFailures(),
        closedByServer(),
        lifetimeMillisAt(50),
        lifetimeMillisAt(99),
        lifetimeMillisAt(100),
        requests(),
        seconds > 0 ? requests() / seconds : 0.0,
        bytes(),
        seconds > 0 ? bytes() / seconds / (1 << 20) : 0.0,
        statuses());
  }

  String toJson(AbuseMode mode, int connections, double seconds) {
    StringBuilder j = new StringBuilder(512);
    j.append("{\"mode\": ").append(BenchReport.string(mode.toString()));
    j.append(", \"connections\": ").append(connections);
    j.append(", \"seconds\": ").append(String.format(Locale.ROOT, "%.3f", seconds));
    j.append(", \"opened\": ").append(opened());
    j.append(", \"peakOpen\": ").append(peakOpen());
    j.append(", \"connectFailures\": ").append(connectFailures());
    j.append(", \"closedByServer\": ").append(closedByServer());
    j.append(", \"closedLifetimeMillis\": {\"p50\": ").append(lifetimeMillisAt(50));
    j.append(", \"p99\": ").append(lifetimeMillisAt(99));
    j.append(", \"max\": ").append(lifetimeMillisAt(100)).append('}');
    j.append(", \"requests\": ").append(requests());
    j.append(", \"bytes\": ").append(bytes());
    j.append(", \"statuses\": {");
    boolean first = true;
    for (Map.Entry<Integer, Long> e : statuses().entrySet()) {
      j.append(first ? "" : ", ");
      j.append('"').append(e.getKey()).append("\": ").append(e.getValue());
      first = false;
    }
    j.append("}}\n");
    return j.toString();
  }
}
