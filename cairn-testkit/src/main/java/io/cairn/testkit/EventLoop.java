package io.cairn.testkit;

import java.util.Comparator;
import java.util.PriorityQueue;

/**
 * The simulator's virtual time: a queue of events ordered by time, then by the order in which
 * they were scheduled, so two runs of one seed execute the same events in the same order.
 *
 * <p>An event may belong to one incarnation of one node; the simulation discards it instead of
 * running it once that incarnation has crashed. Nothing here reads a real clock.
 */
final class EventLoop {
    /** A scheduled action; {@code node < 0} for cluster-wide events (clients, the nemesis). */
    static final class Event {
        final long time;
        final long sequence;
        final int node;
        final int incarnation;
        final Runnable action;
        boolean cancelled;

        Event(long time, long sequence, int node, int incarnation, Runnable action) {
            this.time = time;
            this.sequence = sequence;
            this.node = node;
            this.incarnation = incarnation;
            this.action = action;
        }
    }

    private final PriorityQueue<Event> queue = new PriorityQueue<>(
            Comparator.comparingLong((Event e) -> e.time).thenComparingLong(e -> e.sequence));
    // Invariant: never decreases; equals the time of the event being (or last) executed.
    private long now;
    private long sequence;
    private long steps;

    /** Milliseconds of virtual time since the simulation began. */
    long now() {
        return now;
    }

    /** How many events have run: a logical time finer than milliseconds, for real-time order. */
    long steps() {
        return steps;
    }

    int pending() {
        return queue.size();
    }

    Event schedule(long delayMillis, int node, int incarnation, Runnable action) {
        Event e = new Event(now + Math.max(0, delayMillis), sequence++, node, incarnation, action);
        queue.add(e);
        return e;
    }

    /** Removes and returns the next live event, advancing time to it; null when none is due by {@code until}. */
    Event next(long until) {
        while (!queue.isEmpty()) {
            Event e = queue.peek();
            if (e.time > until) {
                return null;
            }
            queue.poll();
            if (e.cancelled) {
                continue;
            }
            now = e.time;
            steps++;
            return e;
        }
        return null;
    }

    /** Moves time forward to {@code time} when nothing is due before it. */
    void advanceTo(long time) {
        if (time > now) {
            now = time;
        }
    }
}
