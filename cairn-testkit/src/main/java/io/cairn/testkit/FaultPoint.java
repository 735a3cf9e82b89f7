package io.cairn.testkit;

/**
 * The named places where the simulator injects faults (FoundationDB's "buggify"). Each seed
 * enables a random subset, so some runs hammer one kind of fault and others see none of it;
 * an enabled point fires with its probability each time it is consulted.
 */
enum FaultPoint {
    /** A message is lost. Consulted per message. */
    MESSAGE_DROP(0.03),
    /** A message is delivered twice, each copy with its own delay. Consulted per message. */
    MESSAGE_DUPLICATE(0.03),
    /** A message takes 100 ms to 3 s instead of a few ms (and so overtakes nothing, but is overtaken). */
    MESSAGE_LONG_DELAY(0.03),
    /** A partition forms (isolating a node or splitting the cluster). Consulted per nemesis tick. */
    PARTITION(0.35),
    /** A forming partition blocks one direction only. */
    ONE_WAY_PARTITION(0.4),
    /** A node loses power: unsynced writes, scheduled tasks and in-flight callbacks are gone. Per tick. */
    NODE_CRASH(0.3),
    /** A crashed node comes back within half a second, before peers' failure detectors notice. */
    QUICK_RESTART(0.4),
    /** The coordinator of a client request crashes a few milliseconds after taking it. Per request. */
    CRASH_MID_REQUEST(0.01),
    /** A node crashes a few milliseconds after acknowledging a write (as replica or coordinator): is it durable? */
    CRASH_AFTER_ACK(0.01),
    /** Messages a crashing node sent that are still in flight are lost with it (its send buffers die). */
    CRASH_LOSES_SENDS(0.5),
    /** A local write is durable at once but acknowledged 1-20 ms later (group commit). Per local write. */
    SLOW_DISK(0.3),
    /** The local write path refuses a batch (stalled, out of space): nothing is written. Per local write. */
    WRITE_REFUSED(0.02),
    /** A local read of a stored record fails. Per local read. */
    READ_ERROR(0.02),
    /**
     * The disk stalls: a job on a node's storage lane (hints, the version ceiling) takes 0.2 to
     * 1.5 s, and every job behind it waits. Per job (a job is otherwise 0-20 ms, with SLOW_DISK).
     */
    STALLED_DISK(0.01),
    /**
     * A node's physical clock steps forwards or backwards: a little (it stays), or by 0.1 to 5 s,
     * which time synchronisation steps back 1 to 10 s later. Per tick.
     */
    CLOCK_JUMP(0.3),
    /** A node's clock steps beyond the max clock offset (1 to 3 times it, either way) for 2 to 10 s. Per tick. */
    CLOCK_OUTLIER(0.15),
    /**
     * A member turns hostile: besides a message carrying a record (write, hinted write, read
     * reply, hint hand-off), it sends a forged copy whose record is stamped far in the future or
     * at the largest timestamp. Per such message.
     */
    HOSTILE_RECORD(0.01),
    /**
     * The cluster moves to a new membership epoch (same members): each live node hears of it up to
     * a second after the others, so for a while nodes refuse each other's requests as from another
     * epoch. A node that starts later starts at the newest epoch. Per tick.
     */
    EPOCH_CHANGE(0.1),
    /** Clients fire requests back to back instead of thinking between them. Per request. */
    BURST(0.3),
    /**
     * A crashing node loses every hint it held (a lost file, a replaced disk): silent divergence
     * that only anti-entropy repairs. Per crash, in seeds drawn to diverge (never sloppy-quorum
     * seeds, where a hint counts toward W); enabled by the run, not by {@link Buggify}'s draw.
     */
    HINTS_LOST(0.5);

    final double probability;

    FaultPoint(double probability) {
        this.probability = probability;
    }
}
