package io.cairn.cluster;

import io.cairn.clock.Clock;
import java.util.HashMap;
import java.util.Map;

/**
 * A phi-accrual failure detector (Hayashibara et al.): from the history of heartbeat arrivals
 * from each peer, the suspicion level phi = -log10(P(a heartbeat is still to come)), using an
 * exponential model of inter-arrival times with the observed mean.
 *
 * <p>A peer is considered down once phi exceeds the threshold (8 ≈ one in 10^8 chance of a
 * false alarm under the model), or when it has never been heard from. Only local: it drives
 * replica choice and hint replay, never membership.
 *
 * <p>Not thread-safe: owned by one node's core.
 */
final class FailureDetector {
    private static final int WINDOW = 100;

    private final Clock clock;
    private final double threshold;
    private final long minMeanMillis;
    private final Map<Integer, History> peers = new HashMap<>();

    public FailureDetector(Clock clock, double threshold, long minMeanMillis) {
        this.clock = clock;
        this.threshold = threshold;
        this.minMeanMillis = minMeanMillis;
    }

    /** Records a sign of life (a heartbeat or any reply) from a peer. */
    public void heard(int node) {
        long now = clock.nowMillis();
        History h = peers.computeIfAbsent(node, n -> new History());
        if (h.last >= 0) {
            long interval = Math.max(0, now - h.last);
            h.add(interval);
        }
        h.last = now;
    }

    public double phi(int node) {
        History h = peers.get(node);
        if (h == null || h.last < 0) {
            return Double.POSITIVE_INFINITY;
        }
        double mean = Math.max(minMeanMillis, h.mean());
        long since = Math.max(0, clock.nowMillis() - h.last);
        // P(next arrival later than 'since') = exp(-since/mean) ⇒ phi = since / (mean ln 10)
        return since / (mean * Math.log(10));
    }

    public boolean isAlive(int node) {
        return phi(node) < threshold;
    }

    /** Forgets a peer's history (after it restarted, its old rhythm says nothing). */
    public void forget(int node) {
        peers.remove(node);
    }

    private static final class History {
        // Invariant: count <= WINDOW; sum is the sum of the last count intervals.
        final long[] intervals = new long[WINDOW];
        int next;
        int count;
        long sum;
        long last = -1;

        void add(long interval) {
            if (count == WINDOW) {
                sum -= intervals[next];
            } else {
                count++;
            }
            intervals[next] = interval;
            sum += interval;
            next = (next + 1) % WINDOW;
        }

        double mean() {
            return count == 0 ? 0 : (double) sum / count;
        }
    }
}
