package io.cairn.clock;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The clock monitor's offset estimates and verdicts against a manual clock and scripted pongs. */
class ClockMonitorTest {
    private static final long T = 1_700_000_000_000L;
    private static final long MAX_OFFSET = 500;
    private static final long STALE_AFTER = 2_500;
    private static final long LEASE = 1_000;

    private final ManualClock wall = new ManualClock(T);
    private final HybridClock clock = new HybridClock(wall, 1, MAX_OFFSET);
    private final ClockMonitor monitor = new ClockMonitor(clock, STALE_AFTER, LEASE);

    /** A ping sent now, answered after {@code rttMillis} by a peer whose clock is {@code offsetMillis} ahead of ours. */
    private void roundTrip(int peer, long offsetMillis, long rttMillis) {
        long sentAt = wall.nowMillis();
        long peerReadsAt = sentAt + rttMillis / 2 + offsetMillis;
        wall.advance(rttMillis);
        monitor.onPong(peer, sentAt, peerReadsAt);
    }

    @Test
    void aNodeWithNoMeasurementIsSafe() {
        assertThat(monitor.unsafe()).isNull();
        assertThat(monitor.offsets()).isEmpty();
    }

    @Test
    void theOffsetIsThePeersReadingLessTheMiddleOfTheRoundTrip() {
        roundTrip(2, 120, 10);
        roundTrip(3, -40, 4);

        assertThat(monitor.offsets()).containsOnlyKeys(2, 3);
        assertThat(monitor.offsets().get(2).offsetMillis()).isEqualTo(120);
        assertThat(monitor.offsets().get(2).uncertaintyMillis()).isEqualTo(5);
        assertThat(monitor.offsets().get(3).offsetMillis()).isEqualTo(-40);
        assertThat(monitor.unsafe()).isNull();
    }

    @Test
    void aNodeOffFromAMajorityOfItsPeersIsUnsafeAndSaysByHowMuchAndTheBound() {
        roundTrip(2, -1_250, 6);
        roundTrip(3, -1_248, 4);
        roundTrip(4, 10, 4);

        ClockMonitor.Unsafe unsafe = monitor.unsafe();

        assertThat(unsafe).isNotNull();
        assertThat(unsafe.cause()).isEqualTo(ClockMonitor.Cause.PEER_OFFSETS);
        assertThat(unsafe.offsetMillis()).as("this node is ahead by at least").isEqualTo(1_248);
        assertThat(unsafe.maxOffsetMillis()).isEqualTo(MAX_OFFSET);
        assertThat(unsafe.reason()).contains("2 of the 3 peers", "1250 ms ahead of n2", "1248 ms ahead of n3", "500 ms",
                "cluster.maxClockOffset").doesNotContain("n4");
    }

    @Test
    void oneOutlyingPeerDoesNotMakeTheNodeUnsafe() {
        roundTrip(2, 5_000, 4);
        roundTrip(3, 3, 4);
        roundTrip(4, -2, 4);

        assertThat(monitor.unsafe()).isNull();
    }

    @Test
    void halfIsNotAMajority() {
        roundTrip(2, 5_000, 4);
        roundTrip(3, 3, 4);

        assertThat(monitor.unsafe()).isNull();
    }

    @Test
    void withOnePeerMeasuredThatPeerDecides() {
        roundTrip(2, -700, 4);

        assertThat(monitor.unsafe()).isNotNull();
        assertThat(monitor.unsafe().reason()).contains("1 of the 1 peers", "700 ms ahead of n2");
    }

    @Test
    void theUncertaintyCountsInTheNodesFavour() {
        // 600 ms off, but measured over a 300 ms round trip: it may be as little as 450.
        roundTrip(2, 600, 300);
        roundTrip(3, 600, 300);
        assertThat(monitor.unsafe()).isNull();

        roundTrip(2, 600, 10);
        roundTrip(3, 600, 10);
        assertThat(monitor.unsafe()).isNotNull();
        assertThat(monitor.unsafe().reason()).contains("600 ms behind n2 (±5 ms)");
    }

    @Test
    void thePreciseMeasurementOfTheWindowWins() {
        roundTrip(2, 0, 2);
        roundTrip(2, 700, 1_800);
        assertThat(monitor.offsets().get(2).offsetMillis()).isZero();
    }

    @Test
    void measurementsExpireAndTheNodeRecoversByItself() {
        roundTrip(2, 900, 4);
        roundTrip(3, 900, 4);
        assertThat(monitor.unsafe()).isNotNull();

        wall.advance(STALE_AFTER + 1);
        assertThat(monitor.offsets()).isEmpty();
        assertThat(monitor.unsafe()).as("nothing fresh to judge by").isNull();

        roundTrip(2, 900, 4);
        roundTrip(3, 900, 4);
        assertThat(monitor.unsafe()).isNotNull();
        // The clock is fixed: newer measurements push the old ones out of the window.
        for (int i = 0; i < ClockMonitor.WINDOW; i++) {
            roundTrip(2, 3, 4);
            roundTrip(3, -3, 4);
        }
        assertThat(monitor.unsafe()).isNull();
    }

    @Test
    void aClockStepBackDiscardsTheRoundTripAndTheMeasurementsTakenBefore() {
        roundTrip(2, 10, 4);
        long sentAt = wall.nowMillis();
        wall.advance(-10_000);
        monitor.onPong(2, sentAt, sentAt);

        assertThat(monitor.discarded()).isEqualTo(1);
        assertThat(monitor.offsets()).as("measured against a clock that no longer exists").isEmpty();
    }

    @Test
    void nonsenseAndLateAnswersAreDiscarded() {
        monitor.onPong(2, -1, T);
        monitor.onPong(2, T, -1);
        monitor.onPong(2, T - STALE_AFTER - 1, T);
        monitor.onPong(2, T + 5, T);

        assertThat(monitor.discarded()).isEqualTo(4);
        assertThat(monitor.offsets()).isEmpty();
    }

    @Test
    void aForgottenPeerNoLongerCounts() {
        roundTrip(2, 900, 4);
        monitor.forget(2);
        assertThat(monitor.unsafe()).isNull();
    }

    @Test
    void aHybridClockAheadOfTheWallClockByMoreThanTheBoundIsUnsafeUntilTheWallClockCatchesUp() {
        clock.observe(Version.pack(T + MAX_OFFSET, 0));
        assertThat(monitor.unsafe()).as("at the bound").isNull();

        clock.observe(Version.pack(T + MAX_OFFSET + 300, 0));
        ClockMonitor.Unsafe restarted = monitor.unsafe();
        assertThat(restarted.cause()).isEqualTo(ClockMonitor.Cause.AHEAD_OF_WALL_CLOCK);
        assertThat(restarted.offsetMillis()).isEqualTo(MAX_OFFSET + 300);
        assertThat(restarted.reason()).contains("800 ms ahead of its wall clock", "500 ms", "within 300 ms");

        clock.observe(Version.pack(T + 3_600_000, 0));
        ClockMonitor.Unsafe wentBack = monitor.unsafe();
        assertThat(wentBack.cause()).isEqualTo(ClockMonitor.Cause.WALL_CLOCK_WENT_BACK);
        assertThat(wentBack.reason()).contains("3600000 ms ahead", "went back", "catches up");

        wall.set(T + 3_600_000 - MAX_OFFSET);
        assertThat(monitor.unsafe()).isNull();
    }

    @Test
    void theLeadIsJudgedEvenWithPeersInAgreement() {
        roundTrip(2, 0, 4);
        roundTrip(3, 0, 4);
        clock.observe(Long.MAX_VALUE);
        assertThat(monitor.unsafe().cause()).isEqualTo(ClockMonitor.Cause.WALL_CLOCK_WENT_BACK);
    }
}
