package io.cairn.cluster;

import io.cairn.clock.ManualClock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A {@link Scheduler} for unit tests: tasks wait until {@link #runFor} moves the manual clock
 * past their time, then run in time order (ties in scheduling order).
 */
public final class ManualScheduler implements Scheduler {
    private record Task(long at, long seq, Runnable run) {}

    private final ManualClock wall;
    private final List<Task> tasks = new ArrayList<>();
    private long seq;

    public ManualScheduler(ManualClock wall) {
        this.wall = wall;
    }

    @Override
    public Cancellable schedule(long delayMillis, Runnable task) {
        Task t = new Task(wall.nowMillis() + delayMillis, seq++, task);
        tasks.add(t);
        return () -> tasks.remove(t);
    }

    /** Runs every task due within the next {@code millis}, moving the clock to each, then to the end. */
    public void runFor(long millis) {
        long end = wall.nowMillis() + millis;
        while (true) {
            Task next = tasks.stream().min(Comparator.comparingLong(Task::at).thenComparingLong(Task::seq)).orElse(null);
            if (next == null || next.at() > end) {
                break;
            }
            tasks.remove(next);
            wall.set(Math.max(wall.nowMillis(), next.at()));
            next.run().run();
        }
        wall.set(end);
    }
}
