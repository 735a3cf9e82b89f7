package io.cairn.clock;

import io.cairn.invariant.Invariant;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A hybrid logical clock: issues timestamps that are strictly increasing on this node, stay close
 * to physical time, and move past any timestamp observed from elsewhere — but never past one too
 * far ahead of this node's physical clock.
 *
 * <p>Design: the state is one packed long (physical millis, logical counter). {@link #next()} takes
 * max(physical now, last) and bumps the logical counter when physical time has not advanced, so a
 * clock that jumps backwards never produces a smaller timestamp; it just runs on the logical
 * counter until physical time catches up. When the logical counter would overflow, the physical
 * part advances by one millisecond (the clock runs slightly ahead rather than repeat).
 *
 * <p><b>The max-offset rule</b> (CockroachDB's {@code --max-offset}). A timestamp that comes from a
 * peer — in a replica write, a hinted write, a read response, a hint hand-off — is admitted only if
 * its physical part is at most {@link #maxOffsetMillis()} ahead of this node's physical clock
 * ({@link #checkPeer}, {@link #observePeer}); anything further ahead is refused, counted
 * ({@link #refusals()}) and remembered for the log ({@link #lastRefusal()}), and never moves the
 * clock. Without the rule one bad clock or one hostile frame drags every node's clock into the
 * future, and a timestamp at {@code Long.MAX_VALUE} exhausts it. With it, every clock in the
 * cluster stays within the bound of the fastest physical clock. Every entry point of a
 * peer-supplied version calls one of these two methods; the rule lives nowhere else.
 *
 * <p><b>Saturation.</b> Whatever it is fed, the clock never overflows: physical readings are
 * clamped to 0..{@link Version#MAX_PHYSICAL_MILLIS}, {@link #observe} ignores negative values, and
 * a clock driven to {@code Long.MAX_VALUE} (only by this node's own persisted state: peers cannot
 * get past the bound) refuses to issue rather than wrap — an invariant violation, loud, because
 * the node's coordinator stops issuing versions long before that (see {@link ClockMonitor}).
 *
 * <p>Thread safety: lock-free (CAS on the packed state, adders for the counters); safe to share
 * between the cluster core and the write path.
 *
 * <p>Restart: the last issued timestamp is persisted by the storage layer and fed back through
 * {@link #observe(long)} at start, so versions stay monotonic across restarts even if the wall
 * clock moved backwards meanwhile.
 */
public final class HybridClock {
    /** The default of {@code cluster.maxClockOffset}. */
    public static final long DEFAULT_MAX_OFFSET_MILLIS = 500;
    /** As a max offset: no bound at all. Only the simulator's canary uses it; configuration cannot. */
    public static final long NO_BOUND = Long.MAX_VALUE;

    private final Clock physical;
    private final int nodeId;
    private final long maxOffsetMillis;
    // Invariant: never decreases; never negative.
    private final AtomicLong last = new AtomicLong();
    private final LongAdder refusals = new LongAdder();
    private volatile String lastRefusal;

    /** A clock with the default max offset. */
    public HybridClock(Clock physical, int nodeId) {
        this(physical, nodeId, DEFAULT_MAX_OFFSET_MILLIS);
    }

    /**
     * @param maxOffsetMillis how far ahead of this node's physical clock a peer's timestamp may be;
     *                        {@link #NO_BOUND} disables the rule
     */
    public HybridClock(Clock physical, int nodeId, long maxOffsetMillis) {
        if (maxOffsetMillis < 0) {
            throw new IllegalArgumentException("max clock offset must not be negative, got " + maxOffsetMillis);
        }
        this.physical = physical;
        this.nodeId = nodeId;
        this.maxOffsetMillis = maxOffsetMillis;
    }

    public int nodeId() {
        return nodeId;
    }

    public long maxOffsetMillis() {
        return maxOffsetMillis;
    }

    /** A new version, strictly greater than every version this clock issued or observed. */
    public Version next() {
        return new Version(nextTimestamp(), nodeId);
    }

    public long nextTimestamp() {
        long wall = Version.pack(clampedPhysical(), 0);
        while (true) {
            long prev = last.get();
            Invariant.check(prev < Long.MAX_VALUE, "the hybrid clock of node %d is exhausted at %d: it can issue no greater timestamp",
                    nodeId, prev);
            long candidate = wall > prev ? wall : prev + 1;
            if (last.compareAndSet(prev, candidate)) {
                return candidate;
            }
        }
    }

    /**
     * Moves the clock past a timestamp of this node's own durable state (the persisted high-water
     * mark or version ceiling, at start). Unchecked: it must be honoured for versions to stay
     * monotonic; a value far ahead of the wall clock makes the node clock-unsafe instead (see
     * {@link ClockMonitor}). Negative values (corrupt state) are ignored. Peers' timestamps go
     * through {@link #observePeer}.
     */
    public void observe(long timestamp) {
        if (timestamp > 0) {
            last.accumulateAndGet(timestamp, Math::max);
        }
    }

    /**
     * Admits a peer's timestamp and moves the clock past it; or refuses it (counted, remembered,
     * the clock unchanged) when it is negative or more than the max offset ahead.
     *
     * @return whether it was admitted
     */
    public boolean observePeer(long timestamp) {
        if (!checkPeer(timestamp)) {
            return false;
        }
        last.accumulateAndGet(timestamp, Math::max);
        return true;
    }

    /**
     * Whether a peer's timestamp may be used (stored, returned, repaired with): not negative and
     * at most the max offset ahead of this node's physical clock. A refusal is counted and
     * remembered; the clock never moves here.
     */
    public boolean checkPeer(long timestamp) {
        if (admits(timestamp)) {
            return true;
        }
        refusals.increment();
        lastRefusal = describe(timestamp);
        return false;
    }

    /** {@link #checkPeer} without counting: the pure rule. */
    public boolean admits(long timestamp) {
        return timestamp >= 0 && aheadMillis(timestamp) <= maxOffsetMillis;
    }

    /** How far the physical part of {@code timestamp} is ahead of this node's physical clock (negative: behind). */
    public long aheadMillis(long timestamp) {
        // Both terms lie in 0..MAX_PHYSICAL_MILLIS, so the difference cannot overflow.
        return (Math.max(0, timestamp) >>> Version.LOGICAL_BITS) - clampedPhysical();
    }

    /** Why a peer's timestamp is refused, for refusal answers and the log. */
    public String describe(long timestamp) {
        if (timestamp < 0) {
            return "timestamp " + timestamp + " is negative";
        }
        return "timestamp " + Long.toHexString(timestamp) + " is " + aheadMillis(timestamp)
                + " ms ahead of node " + nodeId + "'s clock; the bound (cluster.maxClockOffset) is " + maxOffsetMillis + " ms";
    }

    /** Peer timestamps refused so far. */
    public long refusals() {
        return refusals.sum();
    }

    /** The latest refusal's description, or null when none happened. */
    public String lastRefusal() {
        return lastRefusal;
    }

    /** The last timestamp issued or observed. */
    public long lastTimestamp() {
        return last.get();
    }

    /** How far the last timestamp issued or observed is ahead of physical time (0 when behind it). */
    public long leadMillis() {
        return Math.max(0, aheadMillis(last.get()));
    }

    /** Physical time as the clock's source reports it, for TTL checks. */
    public long physicalMillis() {
        return physical.nowMillis();
    }

    private long clampedPhysical() {
        return Math.clamp(physical.nowMillis(), 0, Version.MAX_PHYSICAL_MILLIS);
    }
}
