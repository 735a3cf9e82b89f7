package io.cairn.clock;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;

/**
 * Decides whether this node's clock is fit to issue versions, from two signs: its offset to each
 * peer, estimated from heartbeat round trips, and its hybrid clock's lead over its own wall clock.
 *
 * <p><b>Offsets</b> (CockroachDB's RemoteClockMonitor). A ping carries this node's physical time
 * t0; the pong echoes it and adds the peer's physical time r; received at t1, the estimate is
 * {@code offset = r − (t0 + rtt/2)} with {@code rtt = t1 − t0}, and since the peer read its clock
 * somewhere within the round trip the true offset lies within ± rtt/2, the uncertainty. The last
 * {@value #WINDOW} measurements per peer are kept; one expires {@code staleAfterMillis} after it
 * was taken (or at once if this node's clock went back past it: it was measured against a clock
 * that no longer exists). A peer's estimate is its fresh measurement with the smallest
 * uncertainty (the shortest round trip says the most, as in NTP), the newest of equals.
 *
 * <p><b>Verdict.</b> This node is the outlier, and unsafe, when it is off by more than the max
 * offset from a strict majority of the peers it has fresh estimates for, the uncertainty counted
 * in its favour ({@code |offset| − uncertainty > maxOffset}). One peer with a wrong clock thus
 * makes only itself unsafe. With a single peer measured, both ends find themselves off: two clocks
 * cannot tell which one is wrong, and refusing writes is the safe side. A node with no fresh
 * estimate (alone, or just started) judges by its lead alone.
 *
 * <p>Independently, the node is unsafe while its hybrid clock is more than the max offset ahead of
 * its own wall clock: peers would refuse every version it issues. Within the bound plus the
 * version-ceiling lease that is a restart within the lease (the clock observed the persisted
 * ceiling) or a small step back of the wall clock; beyond it the wall clock went back, or the data
 * directory carries versions from a clock that ran ahead. Either way the node waits until its wall
 * clock catches up. Both verdicts recover by themselves; nothing here is sticky.
 *
 * <p>Why refuse writes rather than issue them anyway: a version more than the max offset ahead of
 * the cluster's clocks is refused by every replica (see {@link HybridClock#checkPeer}), so such a
 * write could only fail after the fact, as {@code outcome_unknown}; saying {@code clock_unsafe}
 * up front is honest and changes nothing.
 *
 * <p>Not thread-safe: owned by one node's core, like its failure detector.
 */
public final class ClockMonitor {
    static final int WINDOW = 4;

    /** Why a node is clock-unsafe; {@code code} appears in error bodies and readiness. */
    public enum Cause {
        /** Off by more than the max offset from a majority of the peers measured. */
        PEER_OFFSETS("peer_offsets"),
        /** The hybrid clock is more than the max offset, but at most that plus the ceiling lease, ahead of the wall clock. */
        AHEAD_OF_WALL_CLOCK("ahead_of_wall_clock"),
        /** The hybrid clock is more than the max offset plus the ceiling lease ahead of the wall clock. */
        WALL_CLOCK_WENT_BACK("wall_clock_went_back");

        private final String code;

        Cause(String code) {
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    /**
     * One peer's estimated offset: the peer's clock minus this node's, within ± {@code uncertaintyMillis}.
     *
     * @param measuredAtMillis this node's physical time when the pong arrived
     */
    public record Offset(long offsetMillis, long uncertaintyMillis, long measuredAtMillis) {}

    /**
     * This node must not issue versions now.
     *
     * @param offsetMillis how far this node's clock is off: ahead of the peers (positive) or
     *                     behind them, the smallest such offset among the majority; for the lead
     *                     causes, how far its hybrid clock is ahead of its wall clock
     * @param reason       one sentence naming the measured offset and the bound, for operators
     */
    public record Unsafe(Cause cause, long offsetMillis, long maxOffsetMillis, String reason) {}

    private final HybridClock clock;
    private final long staleAfterMillis;
    private final long leaseMillis;
    // Peer → its last WINDOW measurements, oldest first. Sorted, so reasons list peers in order.
    private final Map<Integer, ArrayDeque<Offset>> measurements = new TreeMap<>();
    private long discarded;

    /**
     * @param staleAfterMillis how long a measurement counts (a few heartbeat intervals); also the
     *                         longest round trip worth measuring
     * @param leaseMillis      the version ceiling's lease, by which a restarted node's clock may
     *                         legitimately run ahead of its wall clock
     */
    public ClockMonitor(HybridClock clock, long staleAfterMillis, long leaseMillis) {
        if (staleAfterMillis < 1) {
            throw new IllegalArgumentException("staleAfterMillis must be positive, got " + staleAfterMillis);
        }
        this.clock = clock;
        this.staleAfterMillis = staleAfterMillis;
        this.leaseMillis = leaseMillis;
    }

    /**
     * Records the answer to one of this node's pings.
     *
     * @param pingSentAtMillis this node's physical time when it sent the ping (echoed by the peer)
     * @param peerMillis       the peer's physical time when it answered
     */
    public void onPong(int peer, long pingSentAtMillis, long peerMillis) {
        long now = clock.physicalMillis();
        long rtt = now - pingSentAtMillis;
        if (pingSentAtMillis < 0 || peerMillis < 0 || rtt < 0 || rtt > staleAfterMillis) {
            // A clock step between ping and pong, a reply too late to say anything, or nonsense.
            discarded++;
            return;
        }
        long offset = peerMillis - (pingSentAtMillis + rtt / 2);
        ArrayDeque<Offset> window = measurements.computeIfAbsent(peer, p -> new ArrayDeque<>(WINDOW));
        if (window.size() == WINDOW) {
            window.removeFirst();
        }
        window.addLast(new Offset(offset, (rtt + 1) / 2, now));
    }

    /** Forgets a peer (it left, or restarted with another clock). */
    public void forget(int peer) {
        measurements.remove(peer);
    }

    /** Pongs that could not be used (a clock step during the round trip, or a round trip too long). */
    public long discarded() {
        return discarded;
    }

    /** Each peer's current estimate, for peers with a fresh measurement, by peer id. */
    public Map<Integer, Offset> offsets() {
        long now = clock.physicalMillis();
        Map<Integer, Offset> out = new TreeMap<>();
        measurements.forEach((peer, window) -> {
            Offset best = best(window, now);
            if (best != null) {
                out.put(peer, best);
            }
        });
        return Collections.unmodifiableMap(out);
    }

    /** Why this node must not issue versions now, or null when its clock is fit. */
    public Unsafe unsafe() {
        long maxOffset = clock.maxOffsetMillis();
        long lead = clock.leadMillis();
        if (lead > maxOffset) {
            boolean wentBack = lead - maxOffset > leaseMillis;
            return new Unsafe(wentBack ? Cause.WALL_CLOCK_WENT_BACK : Cause.AHEAD_OF_WALL_CLOCK, lead, maxOffset,
                    "this node's hybrid clock is " + lead + " ms ahead of its wall clock, more than cluster.maxClockOffset ("
                            + maxOffset + " ms)" + (wentBack
                            ? " plus the version-ceiling lease (" + leaseMillis + " ms): its wall clock went back, or its data"
                                    + " holds versions from a clock that ran ahead; writes resume when the wall clock catches up"
                            : ": it restarted within the version-ceiling lease, or its wall clock stepped back; writes resume"
                                    + " within " + (lead - maxOffset) + " ms"));
        }
        long now = clock.physicalMillis();
        int fresh = 0;
        int off = 0;
        long smallest = Long.MAX_VALUE;
        for (ArrayDeque<Offset> window : measurements.values()) {
            Offset o = best(window, now);
            if (o == null) {
                continue;
            }
            fresh++;
            if (excess(o) > maxOffset) {
                off++;
                smallest = Math.abs(o.offsetMillis()) < Math.abs(smallest) ? -o.offsetMillis() : smallest;
            }
        }
        if (off == 0 || 2 * off <= fresh) {
            return null;
        }
        StringJoiner peers = new StringJoiner(", ");
        measurements.forEach((peer, window) -> {
            Offset o = best(window, now);
            if (o != null && excess(o) > maxOffset) {
                long mine = -o.offsetMillis();
                peers.add(Math.abs(mine) + " ms " + (mine > 0 ? "ahead of" : "behind") + " n" + peer + " (±" + o.uncertaintyMillis() + " ms)");
            }
        });
        return new Unsafe(Cause.PEER_OFFSETS, smallest, maxOffset, "this node's clock is off by more than cluster.maxClockOffset ("
                + maxOffset + " ms) from " + off + " of the " + fresh + " peers measured: " + peers
                + "; fix its time synchronisation (NTP/chrony)");
    }

    /** How far a measurement is beyond doubt: the offset's size less its uncertainty. */
    private static long excess(Offset o) {
        return Math.abs(o.offsetMillis()) - o.uncertaintyMillis();
    }

    private Offset best(ArrayDeque<Offset> window, long now) {
        Offset best = null;
        for (Offset o : window) {
            long age = now - o.measuredAtMillis();
            if (age >= 0 && age <= staleAfterMillis && (best == null || o.uncertaintyMillis() <= best.uncertaintyMillis())) {
                best = o;
            }
        }
        return best;
    }
}
