package io.cairn.server.metadata;

import io.cairn.invariant.Invariant;
import io.cairn.metadata.ClusterState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands every new metadata state to the subscribers, in epoch order, on one thread of its own.
 *
 * <p>Producers (the Ratis state machine updater, or the poller of a member without a log server)
 * only queue a state; the subscribers run here, so a slow or throwing subscriber never runs on, or
 * stalls, a Ratis thread. A state whose epoch is not above the last one queued is dropped, so
 * subscribers see strictly increasing epochs. The queue is bounded: when subscribers fall
 * {@value #QUEUE_BOUND} states behind, the producer waits (the log on this node stops applying
 * until they catch up) rather than skip an epoch.
 *
 * <p>The first state published is the baseline, whatever its epoch: the log publishes the state it
 * recovered (or the bootstrap state of an empty log) when it starts, so a restarted node never
 * hands its subscribers the bootstrap state of long ago.
 *
 * <p>A subscriber that throws is logged and keeps its subscription; the next states still reach
 * it and the others. An invariant violation (or an {@link Error}) is a bug: the publisher stops,
 * fails its waiters and lets it reach the thread's uncaught-exception handler.
 */
final class StatePublisher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StatePublisher.class);
    static final int QUEUE_BOUND = 1024;
    private static final long CLOSE_WAIT_MILLIS = 2_000;

    private final BlockingQueue<Runnable> tasks = new ArrayBlockingQueue<>(QUEUE_BOUND);
    private final Thread thread;
    /** Touched only by the publisher thread. */
    private final List<Consumer<ClusterState>> subscribers = new ArrayList<>();
    /** The newest state queued, null before the first; guarded by {@code this}. */
    private ClusterState queued;
    /** The newest state every subscriber was handed, null before the first; guarded by {@link #waiters}. */
    private ClusterState delivered;
    private final List<Waiter> waiters = new ArrayList<>();
    private volatile boolean stopped;

    private record Waiter(long epoch, CompletableFuture<ClusterState> future) {}

    StatePublisher(String threadName) {
        this.thread = Thread.ofPlatform().name(threadName).daemon().unstarted(this::run);
        thread.start();
    }

    /** Queues {@code state} for the subscribers if it is the first or its epoch is newer than the last one queued. */
    void publish(ClusterState state) {
        synchronized (this) {
            if ((queued != null && state.epoch() <= queued.epoch()) || stopped) {
                return;
            }
            queued = state;
            enqueue(() -> deliver(state));
        }
    }

    /** {@code subscriber} is handed the newest delivered state first (if any was), then every later one. */
    void subscribe(Consumer<ClusterState> subscriber) {
        Objects.requireNonNull(subscriber, "subscriber");
        synchronized (this) {
            enqueue(() -> {
                subscribers.add(subscriber);
                ClusterState now;
                synchronized (waiters) {
                    now = delivered;
                }
                if (now != null) {
                    hand(subscriber, now);
                }
            });
        }
    }

    /**
     * Completes with the delivered state once one of at least {@code epoch} was handed to every
     * subscriber; fails with a {@link java.util.concurrent.TimeoutException} after
     * {@code timeout}. Completes on the publisher thread: dependents that block should use an
     * async stage.
     */
    CompletableFuture<ClusterState> awaitEpoch(long epoch, Duration timeout) {
        CompletableFuture<ClusterState> future = new CompletableFuture<>();
        synchronized (waiters) {
            if (delivered != null && delivered.epoch() >= epoch) {
                return CompletableFuture.completedFuture(delivered);
            }
            if (stopped) {
                return CompletableFuture.failedFuture(new MetadataUnavailableException("the metadata log is closed", null));
            }
            Waiter waiter = new Waiter(epoch, future);
            waiters.add(waiter);
            future.whenComplete((state, error) -> {
                synchronized (waiters) {
                    waiters.remove(waiter);
                }
            });
        }
        return future.orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** The newest state handed to the subscribers, or null before the first. */
    ClusterState delivered() {
        synchronized (waiters) {
            return delivered;
        }
    }

    private void enqueue(Runnable task) {
        boolean interrupted = false;
        try {
            while (!stopped) {
                try {
                    if (tasks.offer(task, 100, TimeUnit.MILLISECONDS)) {
                        return;
                    }
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void run() {
        try {
            while (!stopped) {
                Runnable task = tasks.poll(100, TimeUnit.MILLISECONDS);
                if (task != null) {
                    task.run();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            // A bug (hand() lets only invariant violations and errors through): stop loudly.
            stopped = true;
            failWaiters(e);
            throw e;
        }
    }

    private void deliver(ClusterState state) {
        for (Consumer<ClusterState> s : subscribers) {
            hand(s, state);
        }
        synchronized (waiters) {
            Invariant.check(delivered == null || state.epoch() > delivered.epoch(), "metadata epoch %d delivered after %s", state.epoch(),
                    delivered == null ? "none" : delivered.epoch());
            delivered = state;
            for (Waiter w : List.copyOf(waiters)) {
                if (w.epoch() <= state.epoch()) {
                    w.future().complete(state);
                }
            }
        }
    }

    private static void hand(Consumer<ClusterState> subscriber, ClusterState state) {
        try {
            subscriber.accept(state);
        } catch (RuntimeException e) {
            // A subscriber's failure is its own: the log and the other subscribers go on. A broken
            // invariant is not a subscriber's failure but a bug, and stops the publisher.
            if (Invariant.violationIn(e) != null) {
                throw e;
            }
            log.error("metadata subscriber {} failed on epoch {}; it stays subscribed", subscriber, state.epoch(), e);
        }
    }

    private void failWaiters(Throwable cause) {
        List<Waiter> failing;
        synchronized (waiters) {
            failing = List.copyOf(waiters);
        }
        for (Waiter w : failing) {
            w.future().completeExceptionally(new MetadataUnavailableException("the metadata log is closed", cause));
        }
    }

    @Override
    public void close() {
        stopped = true;
        thread.interrupt();
        try {
            thread.join(CLOSE_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        failWaiters(null);
    }
}
