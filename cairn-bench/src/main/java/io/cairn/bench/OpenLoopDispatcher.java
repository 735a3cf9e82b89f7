package io.cairn.bench;

import io.cairn.invariant.Invariant;
import java.util.ArrayDeque;

/**
 * Hands one event loop's share of an open-loop timetable to that loop's idle connections.
 *
 * <p>Design. Slots come due on a fixed {@link Timetable}, whatever the server does: that is what
 * makes the load open. At each tick, every slot that has come due goes to an idle connection at
 * once (sent on time) or, when every connection of the loop is busy, joins the backlog and goes
 * to the next connection that frees up (sent delayed). A request's latency is measured from its
 * slot's intended time in both cases, so time spent waiting for a connection is part of the
 * latency instead of being silently left out (coordinated omission).
 *
 * <p>The backlog is bounded: slots come due in order and leave in order, so the backlog is the
 * range of slots {@code [backlogHead, dueEnd)}; when it would hold more than {@code maxBacklog},
 * its oldest slots are dropped and counted as unsent. A client that cannot send does not queue
 * without end, and what it could not send is reported, not hidden. {@code maxBacklog} 0 means no
 * waiting at all: a slot that finds no idle connection is unsent.
 *
 * <p>Invariant: the backlog is non-empty only while no connection is idle (a connection that
 * frees up takes the oldest waiting slot before it is listed as idle). Hence every slot sent from
 * a tick is on time and every slot sent when a connection frees up is delayed.
 *
 * <p>Concurrency: confined to one event loop, like the connections it serves; only the tally is
 * shared with the reporter.
 */
final class OpenLoopDispatcher {
  /** A connection that takes one request, due at the given time, when it is idle. */
  interface Sender {
    void send(long intendedNanos);
  }

  private final double opsPerSecond;
  private final long maxBacklog;
  private final OpenLoopTally tally;
  private final ArrayDeque<Sender> idle = new ArrayDeque<>();
  private Timetable timetable;
  // Slots [0, dueEnd) have come due; [backlogHead, dueEnd) are due and neither sent nor dropped.
  // Invariant: 0 <= backlogHead <= dueEnd, and dueEnd - backlogHead <= maxBacklog after a tick.
  private long dueEnd;
  private long backlogHead;

  OpenLoopDispatcher(double opsPerSecond, long maxBacklog, OpenLoopTally tally) {
    if (!(opsPerSecond > 0) || Double.isInfinite(opsPerSecond)) {
      throw new IllegalArgumentException("rate must be positive and finite, got " + opsPerSecond);
    }
    if (maxBacklog < 0) {
      throw new IllegalArgumentException("maxBacklog must be >= 0, got " + maxBacklog);
    }
    this.opsPerSecond = opsPerSecond;
    this.maxBacklog = maxBacklog;
    this.tally = tally;
  }

  double opsPerSecond() {
    return opsPerSecond;
  }

  /** Starts the timetable: slot 0 is due at {@code startNanos}. */
  void begin(long startNanos) {
    Invariant.check(timetable == null, "open-loop dispatcher started twice");
    timetable = new Timetable(startNanos, opsPerSecond);
  }

  /**
   * Deals every slot due by {@code nowNanos}: to idle connections, to the backlog, or (beyond the
   * backlog's bound) dropped. Returns when the next slot is due.
   */
  long onTick(long nowNanos) {
    Invariant.check(timetable != null, "open-loop dispatcher ticked before it began");
    long due = timetable.dueBy(nowNanos);
    if (due <= dueEnd) {
      return timetable.intended(dueEnd);
    }
    tally.onScheduled(due - dueEnd);
    dueEnd = due;
    // Bound: each pass sends one slot to one idle connection, so at most idle.size() passes.
    while (backlogHead < dueEnd && !idle.isEmpty()) {
      Sender sender = idle.poll();
      long slot = backlogHead++;
      tally.onSentOnTime();
      sender.send(timetable.intended(slot));
    }
    long waiting = dueEnd - backlogHead;
    if (waiting > maxBacklog) {
      long drop = waiting - maxBacklog;
      backlogHead += drop;
      tally.onUnsent(drop);
    }
    return timetable.intended(dueEnd);
  }

  /**
   * A connection has nothing in flight: it takes the oldest waiting slot, or is listed as idle
   * until the next slot comes due.
   */
  void onIdle(Sender sender) {
    if (backlogHead < dueEnd) {
      Invariant.check(idle.isEmpty(), "a slot waited while %d connections were idle", idle.size());
      long slot = backlogHead++;
      tally.onSentDelayed();
      sender.send(timetable.intended(slot));
      return;
    }
    Invariant.check(!idle.contains(sender), "a connection was listed idle twice");
    idle.add(sender);
  }

  /** A connection closed: it is no longer idle. */
  void onGone(Sender sender) {
    idle.remove(sender);
  }

  int idleConnections() {
    return idle.size();
  }

  long backlog() {
    return dueEnd - backlogHead;
  }
}
