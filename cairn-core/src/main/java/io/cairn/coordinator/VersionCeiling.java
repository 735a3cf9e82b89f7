package io.cairn.coordinator;

import io.cairn.clock.HybridClock;
import io.cairn.storage.Durability;
import io.cairn.storage.Keyspace;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.WriteBatch;
import io.cairn.version.Version;
import java.nio.ByteBuffer;

/**
 * A durable upper bound on the versions a coordinator has issued, so that a restarted node never
 * issues a version at or below one it issued before its crash, even if its wall clock went back.
 *
 * <p><b>Why.</b> A coordinator stamps writes from its HLC, but the HLC high-water mark reaches disk
 * only inside the node's own replica batches. A node that coordinates keys it does not replicate
 * (or crashes before its local apply) restarts with an older mark; with the wall clock behind, its
 * next writes would get lower versions than its earlier ones — acknowledged, yet losing
 * last-writer-wins to the older values — or reuse a version for a different record, which
 * replicas can never reconcile. The deterministic simulator found both.
 *
 * <p><b>How.</b> Every version issued is below a ceiling stored SYNC in the node's engine; a
 * version at or above it first raises the ceiling to its time plus {@link #LEASE_MILLIS}, before the
 * version is used. That is one fsync per lease of issued time. At start the clock observes the
 * ceiling. The cost: after a restart within a lease of the last write, or with the wall clock set
 * back, the clock runs up to one lease ahead of the wall clock; while that is more than the max
 * clock offset, peers would refuse the node's versions, so the node issues none until its wall
 * clock catches up ({@link io.cairn.clock.ClockMonitor}). A ceiling further ahead than the max
 * offset plus a lease means the wall clock went back: the same wait, with that reason.
 * Single-threaded, like its coordinator.
 */
public final class VersionCeiling {
    public static final long LEASE_MILLIS = 1_000;
    private static final byte[] KEY = Keyspace.meta("version-ceiling");

    private final StorageEngine engine;
    private final HybridClock clock;
    // Invariant: every version returned by next() is below ceiling, and ceiling is on disk.
    private long ceiling;

    public VersionCeiling(StorageEngine engine, HybridClock clock) {
        this.engine = engine;
        this.clock = clock;
        byte[] raw = engine.get(KEY);
        this.ceiling = raw == null ? 0 : ByteBuffer.wrap(raw).getLong();
        clock.observe(ceiling);
    }

    /** A new version from the clock, made safe to use: the ceiling covers it durably. */
    public Version next() {
        Version v = clock.next();
        if (v.timestamp() >= ceiling) {
            long raised = Version.pack(Math.min(v.physicalMillis() + LEASE_MILLIS, Version.MAX_PHYSICAL_MILLIS), 0);
            engine.write(new WriteBatch().put(KEY, ByteBuffer.allocate(8).putLong(raised).array()), Durability.SYNC);
            ceiling = raised;
        }
        return v;
    }

    public long ceiling() {
        return ceiling;
    }
}
