package io.cairn.bench;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * Runs one bench: opens the connections, optionally prefills every key, then drives the operation
 * mix through warmup and the measured window, in a closed or an open loop, and returns the report.
 *
 * <p>Design. The event-loop threads do all the IO; each {@link Connection} is pinned to one loop
 * and spread round-robin over the targets. In an open loop each loop has one
 * {@link OpenLoopDispatcher} for its connections, with a share of the rate proportional to them
 * and its timetable shifted by a fraction of a period so the loops' slots interleave; a timer on
 * the loop deals the due slots, at most every {@link #MIN_TICK_NANOS} (slots due in between go out
 * together, and their latency still counts from their own intended times).
 *
 * <p>The calling thread is the reporter: it wakes at every whole second, at the end of warmup and
 * at the end, and at each of these ticks takes one interval histogram per operation from its
 * recorder and one snapshot of the outcome counters. Intervals that start at or after the end of
 * warmup are added into the measured histograms; the counts of the measured window are the end
 * snapshot minus the warmup snapshot. Because warmup's end is itself a tick, no interval straddles
 * it. Every loop is bounded: ticks by the run's length, prefill by the key count and a stall
 * timeout, shutdown by fixed timeouts.
 */
final class LoadGenerator {
  private static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final long PREFILL_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  /** The open-loop timers' shortest interval, which bounds their cost at high rates. */
  static final long MIN_TICK_NANOS = TimeUnit.MICROSECONDS.toNanos(50);

  private final BenchSettings settings;
  private final PrintWriter out;
  private final Transport transport;
  private final RunState run;
  // One per event loop that has connections, in an open loop; empty in a closed loop.
  private final List<OpenLoopDispatcher> dispatchers = new ArrayList<>();
  private final Map<OpenLoopDispatcher, EventLoop> dispatcherLoops = new IdentityHashMap<>();

  LoadGenerator(BenchSettings settings, PrintWriter out) {
    this.settings = settings;
    this.out = out;
    this.transport = Transport.best();
    KeyChooser keys =
        KeyChooser.of(settings.distribution(), settings.keyCount(), settings.zipfTheta());
    this.run =
        new RunState(
            settings.mix(), keys, settings.keyCount(), settings.requestTimeout().toNanos());
  }

  BenchReport run() {
    out.printf(
        Locale.ROOT,
        "cairn bench: %s, %d connections, %d %s threads, mix %s, %d keys %s, %d-byte values%n",
        settings.targets(),
        settings.connections(),
        settings.threads(),
        transport,
        settings.mix(),
        settings.keyCount(),
        settings.distribution(),
        settings.valueSizeBytes());
    if (openLoop()) {
      out.printf(
          Locale.ROOT,
          "open loop: %.1f ops/s in all, at most %d due requests waiting for a connection%n",
          settings.rateOpsPerSecond(),
          settings.maxBacklog());
    }
    out.flush();
    EventLoopGroup group = transport.newGroup(settings.threads());
    List<Connection> connections = new ArrayList<>(settings.connections());
    try {
      open(group, connections);
      if (settings.prefill()) {
        prefill(connections);
      }
      return measure(connections);
    } finally {
      run.phase(RunState.Phase.STOP);
      for (Connection connection : connections) {
        connection.close();
      }
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
  }

  private void open(EventLoopGroup group, List<Connection> connections) {
    SplittableRandom seeds = new SplittableRandom(settings.seed());
    Map<Target, RequestEncoder> encoders = new HashMap<>();
    Map<Target, InetSocketAddress> addresses = new HashMap<>();
    for (Target target : settings.targets()) {
      encoders.put(
          target,
          new RequestEncoder(
              target,
              settings.keyPrefix(),
              settings.query(),
              settings.headers(),
              settings.valueSizeBytes(),
              seeds.split()));
      addresses.put(target, new InetSocketAddress(target.socketHost(), target.port()));
    }
    int connectTimeoutMillis = (int) Math.min(settings.requestTimeout().toMillis(), 60_000);
    EventLoop[] loops = new EventLoop[settings.connections()];
    Map<EventLoop, Integer> perLoop = new IdentityHashMap<>();
    for (int i = 0; i < loops.length; i++) {
      loops[i] = group.next();
      perLoop.merge(loops[i], 1, Integer::sum);
    }
    Map<EventLoop, OpenLoopDispatcher> byLoop = new IdentityHashMap<>();
    if (openLoop()) {
      for (EventLoop loop : loops) {
        if (byLoop.containsKey(loop)) {
          continue;
        }
        double share = (double) perLoop.get(loop) / settings.connections();
        OpenLoopDispatcher dispatcher =
            new OpenLoopDispatcher(
                settings.rateOpsPerSecond() * share,
                Math.round(settings.maxBacklog() * share),
                run.openLoop());
        byLoop.put(loop, dispatcher);
        dispatchers.add(dispatcher);
        dispatcherLoops.put(dispatcher, loop);
      }
    }
    for (int i = 0; i < settings.connections(); i++) {
      Target target = settings.targets().get(i % settings.targets().size());
      Connection connection =
          new Connection(
              run,
              addresses.get(target),
              encoders.get(target),
              loops[i],
              transport,
              connectTimeoutMillis,
              seeds.nextLong(),
              byLoop.get(loops[i]));
      connections.add(connection);
      connection.start();
    }
  }

  private boolean openLoop() {
    return settings.rateOpsPerSecond() > 0;
  }

  /** Starts every dispatcher's timetable at {@code startNanos}, each shifted into the gaps. */
  private void startTimetables(long startNanos) {
    double periodNanos = 1e9 / settings.rateOpsPerSecond();
    for (int i = 0; i < dispatchers.size(); i++) {
      OpenLoopDispatcher dispatcher = dispatchers.get(i);
      EventLoop loop = dispatcherLoops.get(dispatcher);
      long shifted = startNanos + Math.round(i * periodNanos);
      loop.execute(
          () -> {
            dispatcher.begin(shifted);
            tick(loop, dispatcher);
          });
    }
  }

  /** Deals the due slots, then sleeps on the loop until the next one; ends with the run. */
  private void tick(EventLoop loop, OpenLoopDispatcher dispatcher) {
    if (run.phase() != RunState.Phase.RUN) {
      return;
    }
    long now = System.nanoTime();
    long next = Math.max(dispatcher.onTick(now), now + MIN_TICK_NANOS);
    loop.schedule(() -> tick(loop, dispatcher), next - now, TimeUnit.NANOSECONDS);
  }

  private void prefill(List<Connection> connections) {
    long keys = settings.keyCount();
    long stallNanos = Math.max(2 * settings.requestTimeout().toNanos(), 10 * SECOND_NANOS);
    long start = System.nanoTime();
    run.phase(RunState.Phase.PREFILL);
    connections.forEach(Connection::kick);
    long lastDone = 0;
    long lastProgressNanos = start;
    long nextPrintNanos = start + SECOND_NANOS;
    // Bound: each pass either sees progress (at most `keys` of it) or moves toward the stall limit.
    while (true) {
      LockSupport.parkNanos(PREFILL_POLL_NANOS);
      long now = System.nanoTime();
      long done = run.prefillSucceeded() + run.prefillFailed();
      if (done >= keys) {
        break;
      }
      if (done != lastDone) {
        lastDone = done;
        lastProgressNanos = now;
      } else if (now - lastProgressNanos > stallNanos) {
        throw new IllegalStateException(
            String.format(
                Locale.ROOT,
                "prefill stalled at %d of %d keys (%d failed, %d connect failures)",
                done,
                keys,
                run.prefillFailed(),
                run.connectFailures()));
      }
      if (now >= nextPrintNanos) {
        out.printf(Locale.ROOT, "prefill %6.1fs  %d/%d%n", (now - start) / 1e9, done, keys);
        out.flush();
        nextPrintNanos += SECOND_NANOS;
      }
    }
    out.printf(
        Locale.ROOT,
        "prefill done in %.1fs: %d written, %d failed%n",
        (System.nanoTime() - start) / 1e9,
        run.prefillSucceeded(),
        run.prefillFailed());
    out.flush();
    run.phase(RunState.Phase.IDLE);
  }

  private BenchReport measure(List<Connection> connections) {
    Operation[] ops = Operation.values();
    Histogram[] recycled = new Histogram[ops.length];
    Histogram[] measured = new Histogram[ops.length];
    for (Operation op : ops) {
      measured[op.ordinal()] = new Histogram(OperationStats.HIGHEST_LATENCY_MICROS, 3);
      run.stats(op).latencyMicros().reset();
    }
    Histogram tickTotal = new Histogram(OperationStats.HIGHEST_LATENCY_MICROS, 3);

    long start = System.nanoTime();
    long warmupEnd = start + settings.warmup().toNanos();
    long end = warmupEnd + settings.duration().toNanos();
    OutcomeCounts[] previous = snapshot();
    OutcomeCounts[] atWarmupEnd = previous;
    OpenLoopTally.Snapshot openAtWarmupEnd = run.openLoop().snapshot();
    OpenLoopTally.Snapshot openAtEnd = openAtWarmupEnd;
    long connectFailuresAtWarmupEnd = run.connectFailures();
    long connectFailuresAtEnd = connectFailuresAtWarmupEnd;
    long measuredStart = start;
    run.phase(RunState.Phase.RUN);
    if (openLoop()) {
      startTimetables(start);
    }
    connections.forEach(Connection::kick);

    long tick = start;
    long lastWake = start;
    long maxTicks = (end - start) / SECOND_NANOS + 3;
    for (long i = 0; i < maxTicks && tick < end; i++) {
      long previousTick = tick;
      long nextSecond = start + ((tick - start) / SECOND_NANOS + 1) * SECOND_NANOS;
      tick = Math.min(nextSecond, end);
      if (warmupEnd > previousTick && warmupEnd < tick) {
        tick = warmupEnd;
      }
      long wake = sleepUntil(tick);
      boolean measuredInterval = previousTick >= warmupEnd;
      tickTotal.reset();
      for (Operation op : ops) {
        Histogram interval =
            run.stats(op).latencyMicros().getIntervalHistogram(recycled[op.ordinal()]);
        recycled[op.ordinal()] = interval;
        tickTotal.add(interval);
        if (measuredInterval) {
          measured[op.ordinal()].add(interval);
        }
      }
      OutcomeCounts[] counts = snapshot();
      connectFailuresAtEnd = run.connectFailures();
      openAtEnd = run.openLoop().snapshot();
      if (tick == warmupEnd) {
        atWarmupEnd = counts;
        openAtWarmupEnd = openAtEnd;
        connectFailuresAtWarmupEnd = connectFailuresAtEnd;
        measuredStart = wake;
      }
      long intervalErrors = 0;
      long intervalShed = 0;
      for (Operation op : ops) {
        OutcomeCounts interval = counts[op.ordinal()].minus(previous[op.ordinal()]);
        intervalErrors += interval.errors();
        intervalShed += interval.shed();
      }
      printProgress(
          wake - start,
          wake - lastWake,
          measuredInterval ? "run" : "warmup",
          tickTotal,
          intervalErrors,
          intervalShed);
      previous = counts;
      lastWake = wake;
    }
    double measuredSeconds = (lastWake - measuredStart) / 1e9;
    OpenLoopReport openLoop =
        openLoop()
            ? OpenLoopReport.of(
                settings.rateOpsPerSecond(),
                settings.maxBacklog(),
                openAtEnd.minus(openAtWarmupEnd),
                measuredSeconds)
            : null;
    return report(
        measured,
        previous,
        atWarmupEnd,
        connectFailuresAtEnd - connectFailuresAtWarmupEnd,
        measuredSeconds,
        openLoop);
  }

  private BenchReport report(
      Histogram[] measured,
      OutcomeCounts[] last,
      OutcomeCounts[] first,
      long connectFailures,
      double measuredSeconds,
      OpenLoopReport openLoop) {
    List<OperationReport> reports = new ArrayList<>();
    Histogram all = new Histogram(OperationStats.HIGHEST_LATENCY_MICROS, 3);
    long count = 0;
    long notFound = 0;
    long errors = 0;
    long shed = 0;
    Map<String, Long> errorsByKind = new HashMap<>();
    for (Operation op : Operation.values()) {
      OutcomeCounts window = last[op.ordinal()].minus(first[op.ordinal()]);
      if (settings.mix().weight(op) == 0
          && window.successes() + window.errors() + window.shed() == 0) {
        continue;
      }
      Histogram latency = measured[op.ordinal()];
      all.add(latency);
      count += window.successes();
      notFound += window.notFound();
      errors += window.errors();
      shed += window.shed();
      window.errorsByKind().forEach((kind, n) -> errorsByKind.merge(kind, n, Long::sum));
      reports.add(
          OperationReport.of(
              op.label(),
              window.successes(),
              window.notFound(),
              window.errors(),
              window.shed(),
              window.errorsByKind(),
              latency,
              measuredSeconds));
    }
    OperationReport total =
        OperationReport.of(
            "total", count, notFound, errors, shed, errorsByKind, all, measuredSeconds);
    return new BenchReport(
        settings,
        transport,
        measuredSeconds,
        reports,
        total,
        connectFailures,
        run.prefillSucceeded(),
        run.prefillFailed(),
        openLoop);
  }

  private OutcomeCounts[] snapshot() {
    OutcomeCounts[] counts = new OutcomeCounts[Operation.values().length];
    for (Operation op : Operation.values()) {
      counts[op.ordinal()] = run.stats(op).snapshot();
    }
    return counts;
  }

  private void printProgress(
      long elapsedNanos,
      long intervalNanos,
      String phase,
      Histogram interval,
      long errors,
      long shed) {
    double seconds = intervalNanos / 1e9;
    double opsPerSecond = seconds > 0 ? interval.getTotalCount() / seconds : 0.0;
    double p99Millis =
        interval.getTotalCount() == 0 ? 0.0 : interval.getValueAtPercentile(99.0) / 1000.0;
    out.printf(
        Locale.ROOT,
        "[%7.1fs] %-6s %10.0f ops/s  p99 %8.3f ms  errors %d  shed %d%n",
        elapsedNanos / 1e9,
        phase,
        opsPerSecond,
        p99Millis,
        errors,
        shed);
    out.flush();
  }

  /** Sleeps until the deadline and returns the time it woke; bounded by the deadline itself. */
  private static long sleepUntil(long deadlineNanos) {
    long now = System.nanoTime();
    while (now < deadlineNanos) {
      LockSupport.parkNanos(deadlineNanos - now);
      now = System.nanoTime();
    }
    return now;
  }
}
