package io.cairn.server.security;

import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * Lets at most {@code perSecond} events through in any one-second interval (a sliding second, so
 * no second of time, not only each whole one, carries more) and counts the others: what keeps a
 * flood of bad requests or connections from flooding a bounded log with lines about them.
 */
public final class FloodGate {
    private final LongSupplier monotonicMillis;
    // When (monotonic ms) each of the last perSecond events passed, oldest at next.
    private final long[] passedAt;
    private int next;
    private long held;

    /** @param perSecond how many may pass in any second; 0: none ever does */
    public FloodGate(int perSecond, LongSupplier monotonicMillis) {
        if (perSecond < 0) {
            throw new IllegalArgumentException("a negative rate: " + perSecond);
        }
        this.monotonicMillis = monotonicMillis;
        this.passedAt = new long[perSecond];
        Arrays.fill(passedAt, Long.MIN_VALUE);
    }

    /** Whether an event may pass now: -1 when it may not (it is counted), else how many were held back since the last one passed. */
    public synchronized long pass() {
        long now = monotonicMillis.getAsLong();
        if (passedAt.length == 0 || passedAt[next] != Long.MIN_VALUE && now - passedAt[next] < 1000) {
            held++;
            return -1;
        }
        passedAt[next] = now;
        next = (next + 1) % passedAt.length;
        long before = held;
        held = 0;
        return before;
    }
}
