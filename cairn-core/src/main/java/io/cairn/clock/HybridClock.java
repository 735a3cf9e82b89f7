package io.cairn.clock;

import io.cairn.version.Version;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A hybrid logical clock: issues timestamps that are strictly increasing on this node, stay close
 * to physical time, and move past any timestamp observed from elsewhere.
 *
 * <p>Design: the state is one packed long (physical millis, logical counter). {@link #now()} takes
 * max(physical now, last) and bumps the logical counter when physical time has not advanced, so a
 * clock that jumps backwards never produces a smaller timestamp; it just runs on the logical
 * counter until physical time catches up. When the logical counter would overflow, the physical
 * part advances by one millisecond (the clock runs slightly ahead rather than repeat).
 *
 * <p>Thread safety: lock-free (CAS on the packed state); safe to share.
 *
 * <p>Restart: the last issued timestamp is persisted by the storage layer and fed back through
 * {@link #observe(long)} at start, so versions stay monotonic across restarts even if the wall
 * clock moved backwards meanwhile.
 */
public final class HybridClock {
    private final Clock physical;
    private final int nodeId;
    // Invariant: never decreases.
    private final AtomicLong last = new AtomicLong();

    public HybridClock(Clock physical, int nodeId) {
        this.physical = physical;
        this.nodeId = nodeId;
    }

    public int nodeId() {
        return nodeId;
    }

    /** A new version, strictly greater than every version this clock issued or observed. */
    public Version next() {
        return new Version(nextTimestamp(), nodeId);
    }

    public long nextTimestamp() {
        long wall = Version.pack(Math.max(0, physical.nowMillis()), 0);
        while (true) {
            long prev = last.get();
            long candidate = wall > prev ? wall : prev + 1;
            if (last.compareAndSet(prev, candidate)) {
                return candidate;
            }
        }
    }

    /** Moves the clock past a timestamp seen from elsewhere (another node, or the disk at start). */
    public void observe(long timestamp) {
        last.accumulateAndGet(timestamp, Math::max);
    }

    /** The last timestamp issued or observed. */
    public long lastTimestamp() {
        return last.get();
    }

    /** Physical time as the clock's source reports it, for TTL checks. */
    public long physicalMillis() {
        return physical.nowMillis();
    }
}
