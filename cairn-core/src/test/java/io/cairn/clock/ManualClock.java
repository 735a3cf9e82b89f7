package io.cairn.clock;

/** A physical clock that moves only when a test moves it, backwards as readily as forwards. */
public final class ManualClock implements Clock {
    private volatile long nowMillis;

    public ManualClock(long startMillis) {
        this.nowMillis = startMillis;
    }

    @Override
    public long nowMillis() {
        return nowMillis;
    }

    public void set(long millis) {
        nowMillis = millis;
    }

    public void advance(long millis) {
        nowMillis += millis;
    }
}
