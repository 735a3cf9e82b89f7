package io.cairn.cluster;

/**
 * The port through which the core asks to be called back later. Production wires an event loop;
 * the simulator a virtual-time queue. Callbacks never run concurrently with other core calls of
 * the same node.
 */
@FunctionalInterface
public interface Scheduler {
    Cancellable schedule(long delayMillis, Runnable task);

    /** A scheduled task that can still be called off. */
    @FunctionalInterface
    interface Cancellable {
        void cancel();
    }
}
