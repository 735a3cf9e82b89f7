package io.cairn.testkit;

import io.cairn.clock.Clock;

/**
 * One node's physical clock: virtual time plus the node's own offset, which the simulation sets
 * at start (skew) and changes at random moments (jumps, backwards as readily as forwards), the
 * way NTP steps and VM migrations move real clocks.
 */
final class SimClock implements Clock {
    private final EventLoop loop;
    private final long epochMillis;
    private long offsetMillis;

    SimClock(EventLoop loop, long epochMillis, long offsetMillis) {
        this.loop = loop;
        this.epochMillis = epochMillis;
        this.offsetMillis = offsetMillis;
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
