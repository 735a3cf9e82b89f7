package io.cairn.testkit;

import io.cairn.clock.Clock;

/**
 * One node's physical clock: virtual time plus the node's own offset, which the simulation sets
 * at start (skew) and changes at random moments (jumps, backwards as readily as forwards), the
 * way NTP steps and VM migrations move real clocks; {@link #correct()} steps it back to its
 * skew, as time synchronisation eventually does.
 */
final class SimClock implements Clock {
    private final EventLoop loop;
    private final long epochMillis;
    private final long skewMillis;
    private long offsetMillis;

    SimClock(EventLoop loop, long epochMillis, long offsetMillis) {
        this.loop = loop;
        this.epochMillis = epochMillis;
        this.skewMillis = offsetMillis;
        this.offsetMillis = offsetMillis;
    }

    /** Back to the skew it started with. */
    void correct() {
        offsetMillis = skewMillis;
    }

    @Override
    public long nowMillis() {
        return epochMillis + loop.now() + offsetMillis;
    }

    long offsetMillis() {
        return offsetMillis;
    }

    void jump(long deltaMillis) {
        offsetMillis += deltaMillis;
    }
}
