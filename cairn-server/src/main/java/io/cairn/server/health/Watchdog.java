package io.cairn.server.health;

import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Notices when a thread the node depends on has died or stopped making progress, and tells
 * {@link NodeHealth}.
 *
 * <p><b>How.</b> Every interval it posts a probe task to each watched executor (event loops, the
 * cluster core) and checks each watched plain thread is alive. An executor that terminated, or a
 * thread that ended, while the node runs is fatal — this is how a loop killed by an exception
 * escaping its run loop is found, which Netty only logs. A probe not run within the stall
 * threshold marks the executor stalled until it runs one again.
 *
 * <p>Runs on its own daemon thread; {@link #close} it before shutting the watched threads down.
 */
public final class Watchdog implements AutoCloseable {
    private final NodeHealth health;
    private final long stallNanos;
    private final long intervalMillis;
    private final List<Probe> probes = new CopyOnWriteArrayList<>();
    private final List<Watched> threads = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean closed;

    private static final class Watched {
        final String name;
        final Thread thread;
        boolean dead;

        Watched(String name, Thread thread) {
            this.name = name;
            this.thread = thread;
        }
    }

    private static final class Probe {
        final String name;
        final EventExecutor executor;
        // Set once its death is reported: reported once, not on every round.
        boolean dead;
        // When the outstanding probe was posted; 0 when none is outstanding.
        volatile long postedNanos;

        Probe(String name, EventExecutor executor) {
            this.name = name;
            this.executor = executor;
        }
    }

    public Watchdog(NodeHealth health, Duration stallThreshold) {
        this.health = health;
        this.stallNanos = stallThreshold.toNanos();
        this.intervalMillis = Math.max(10, Math.min(1000, stallThreshold.toMillis() / 4));
        this.thread = new Thread(this::run, "cairn-watchdog");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Watches every executor of {@code executors} (an event loop group, or one executor). */
    public void watch(String component, Iterable<EventExecutor> executors) {
        int i = 0;
        for (EventExecutor e : executors) {
            probes.add(new Probe(component + "#" + i++, e));
        }
    }

    public void watch(String component, Thread t) {
        threads.add(new Watched(component, t));
    }

    private void run() {
        while (!closed) {
            try {
                Thread.sleep(intervalMillis);
            } catch (InterruptedException e) {
                return;
            }
            if (closed) {
                return;
            }
            long now = System.nanoTime();
            for (Probe p : probes) {
                check(p, now);
            }
            for (Watched w : threads) {
                if (!w.dead && !w.thread.isAlive() && !closed) {
                    w.dead = true;
                    health.fatal(w.name, new IllegalStateException("thread " + w.thread.getName() + " has stopped"));
                }
            }
        }
    }

    private void check(Probe p, long now) {
        if (p.dead) {
            return;
        }
        if (p.executor.isShutdown() || p.executor.isTerminated()) {
            if (!closed) {
                p.dead = true;
                health.fatal(component(p.name), new IllegalStateException(p.name + " (" + p.executor + ") has stopped"));
            }
            return;
        }
        long posted = p.postedNanos;
        if (posted != 0) {
            if (now - posted > stallNanos) {
                health.stalled(p.name, "has not run a task for " + TimeUnit.NANOSECONDS.toMillis(now - posted) + " ms");
            }
            return;
        }
        p.postedNanos = now;
        try {
            p.executor.execute(() -> {
                p.postedNanos = 0;
                health.stalled(p.name, null);
            });
        } catch (RejectedExecutionException e) {
            if (!closed) {
                p.dead = true;
                health.fatal(component(p.name), new IllegalStateException(p.name + " refuses tasks", e));
            }
        }
    }

    private static String component(String probeName) {
        int hash = probeName.indexOf('#');
        return hash < 0 ? probeName : probeName.substring(0, hash);
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
