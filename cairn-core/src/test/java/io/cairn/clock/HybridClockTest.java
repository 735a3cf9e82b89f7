package io.cairn.clock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.invariant.Invariant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** Unit tests of the hybrid logical clock against a manual physical clock. */
class HybridClockTest {
    private static final long T = 1_700_000_000_000L;

    private final ManualClock physical = new ManualClock(T);
    private final HybridClock clock = new HybridClock(physical, 7);

    @Test
    void followsPhysicalTimeWhenItAdvances() {
        Version first = clock.next();
        physical.advance(5);
        Version second = clock.next();

        assertThat(first.physicalMillis()).isEqualTo(T);
        assertThat(first.logical()).isZero();
        assertThat(second.physicalMillis()).isEqualTo(T + 5);
        assertThat(second.logical()).isZero();
        assertThat(second.nodeId()).isEqualTo(7);
    }

    @Test
    void runsOnTheLogicalCounterWhilePhysicalTimeStandsStill() {
        Version a = clock.next();
        Version b = clock.next();
        Version c = clock.next();

        assertThat(List.of(a.logical(), b.logical(), c.logical())).containsExactly(0, 1, 2);
        assertThat(b.physicalMillis()).isEqualTo(T);
        assertThat(c.physicalMillis()).isEqualTo(T);
    }

    @Test
    void strictlyIncreasingWhenThePhysicalClockJumpsBackwardsAndForwards() {
        long[] moves = {0, -1, -60_000, +30_000, +30_001, -5, +1, -3_600_000, +7_200_000, -1, -1, 0};
        long previous = -1;
        for (long move : moves) {
            physical.advance(move);
            for (int i = 0; i < 3; i++) {
                long ts = clock.nextTimestamp();
                assertThat(ts).isGreaterThan(previous);
                assertThat(ts >>> Version.LOGICAL_BITS).isGreaterThanOrEqualTo(physical.nowMillis());
                previous = ts;
            }
        }
    }

    @Test
    void backwardsJumpDoesNotRepeatAndCatchesUpWithPhysicalTimeLater() {
        physical.set(T + 1_000);
        Version ahead = clock.next();
        physical.set(T);

        Version during = clock.next();
        assertThat(during).isGreaterThan(ahead);
        assertThat(during.physicalMillis()).isEqualTo(T + 1_000);
        assertThat(during.logical()).isEqualTo(1);

        physical.set(T + 1_001);
        Version after = clock.next();
        assertThat(after.physicalMillis()).isEqualTo(T + 1_001);
        assertThat(after.logical()).isZero();
    }

    @Test
    void staysAtOrAbovePhysicalTime() {
        for (int i = 0; i < 100; i++) {
            physical.advance(i % 3 == 0 ? 2 : 0);
            assertThat(clock.next().physicalMillis()).isGreaterThanOrEqualTo(physical.nowMillis());
        }
    }

    @Test
    void observeMovesPastARemoteTimestamp() {
        long remote = Version.pack(T + 50_000, 17);
        clock.observe(remote);

        assertThat(clock.lastTimestamp()).isEqualTo(remote);
        long next = clock.nextTimestamp();
        assertThat(next).isEqualTo(remote + 1);
    }

    @Test
    void observingAnOlderTimestampNeverMovesTheClockBack() {
        physical.set(T + 10);
        long issued = clock.nextTimestamp();

        clock.observe(Version.pack(T, 3));

        assertThat(clock.lastTimestamp()).isEqualTo(issued);
        assertThat(clock.nextTimestamp()).isGreaterThan(issued);
    }

    @Test
    void logicalOverflowCarriesIntoThePhysicalPart() {
        int perMillisecond = 1 << Version.LOGICAL_BITS;
        Version last = null;
        for (int i = 0; i < perMillisecond; i++) {
            Version v = clock.next();
            if (last != null) {
                assertThat(v).isGreaterThan(last);
            }
            last = v;
        }
        assertThat(last.physicalMillis()).isEqualTo(T);
        assertThat(last.logical()).isEqualTo((int) Version.LOGICAL_MASK);

        Version carried = clock.next();
        assertThat(carried.physicalMillis()).isEqualTo(T + 1);
        assertThat(carried.logical()).isZero();
        assertThat(carried).isGreaterThan(last);

        // Physical time reaching the carried millisecond must not repeat it.
        physical.set(T + 1);
        assertThat(clock.next()).isGreaterThan(carried);
    }

    @Test
    void negativePhysicalTimeStillGivesValidIncreasingVersions() {
        physical.set(-5);
        Version a = clock.next();
        Version b = clock.next();
        assertThat(a.timestamp()).isGreaterThanOrEqualTo(0);
        assertThat(b).isGreaterThan(a);
    }

    @Test
    void concurrentCallersGetUniqueIncreasingTimestamps() throws Exception {
        int threads = 4;
        int perThread = 50_000; // > 2^16 in total, so the logical counter overflows under contention
        List<long[]> issued = new ArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long[] mine = new long[perThread];
            issued.add(mine);
            Thread worker = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    mine[i] = clock.nextTimestamp();
                }
            });
            workers.add(worker);
            worker.start();
        }
        start.countDown();
        for (Thread worker : workers) {
            worker.join(10_000);
            assertThat(worker.isAlive()).isFalse();
        }

        Set<Long> all = new HashSet<>();
        for (long[] mine : issued) {
            for (int i = 0; i < perThread; i++) {
                all.add(mine[i]);
                if (i > 0) {
                    assertThat(mine[i]).isGreaterThan(mine[i - 1]);
                }
            }
        }
        assertThat(all).hasSize(threads * perThread);
        assertThat(clock.lastTimestamp()).isEqualTo(Version.pack(T, 0) + threads * perThread - 1);
    }

    // ---------------------------------------------------------------- the max-offset rule

    @Test
    void aPeerTimestampUpToTheMaxOffsetAheadIsObserved() {
        long atBound = Version.pack(T + HybridClock.DEFAULT_MAX_OFFSET_MILLIS, 5);

        assertThat(clock.observePeer(atBound)).isTrue();

        assertThat(clock.lastTimestamp()).isEqualTo(atBound);
        assertThat(clock.refusals()).isZero();
        assertThat(clock.lastRefusal()).isNull();
    }

    @Test
    void aPeerTimestampBeyondTheMaxOffsetIsRefusedCountedAndLeavesTheClockAlone() {
        long before = clock.nextTimestamp();
        long[] hostile = {Version.pack(T + HybridClock.DEFAULT_MAX_OFFSET_MILLIS + 1, 0), Version.pack(T + 3_600_000, 0),
                Version.pack(Version.MAX_PHYSICAL_MILLIS, 0), Long.MAX_VALUE, -1, Long.MIN_VALUE};

        for (long ts : hostile) {
            assertThat(clock.observePeer(ts)).as("observe %x", ts).isFalse();
            assertThat(clock.checkPeer(ts)).as("check %x", ts).isFalse();
            assertThat(clock.admits(ts)).isFalse();
        }

        assertThat(clock.lastTimestamp()).isEqualTo(before);
        assertThat(clock.refusals()).isEqualTo(2L * hostile.length);
        assertThat(clock.lastRefusal()).contains("negative");
        assertThat(clock.describe(Version.pack(T + 3_600_000, 0))).contains("3600000 ms ahead", "500 ms", "cluster.maxClockOffset");
        assertThat(clock.nextTimestamp()).isEqualTo(before + 1);
    }

    @Test
    void theBoundFollowsThePhysicalClockAndIsConfigurable() {
        HybridClock tight = new HybridClock(physical, 7, 20);
        long ts = Version.pack(T + 100, 0);
        assertThat(tight.checkPeer(ts)).isFalse();
        physical.advance(80);
        assertThat(tight.checkPeer(ts)).isTrue();
        assertThat(tight.maxOffsetMillis()).isEqualTo(20);
        assertThatThrownBy(() -> new HybridClock(physical, 7, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void noBoundAdmitsAnyNonNegativeTimestamp() {
        HybridClock unbounded = new HybridClock(physical, 7, HybridClock.NO_BOUND);
        assertThat(unbounded.observePeer(Long.MAX_VALUE)).isTrue();
        assertThat(unbounded.observePeer(-1)).isFalse();
        assertThat(unbounded.lastTimestamp()).isEqualTo(Long.MAX_VALUE);
    }

    // ---------------------------------------------------------------- saturation

    @Test
    void aClockDrivenToTheLargestTimestampRefusesToIssueInsteadOfWrapping() {
        clock.observe(Long.MAX_VALUE - 1);
        assertThat(clock.nextTimestamp()).isEqualTo(Long.MAX_VALUE);

        assertThatThrownBy(clock::nextTimestamp).isInstanceOf(Invariant.InvariantViolation.class).hasMessageContaining("exhausted");
        assertThatThrownBy(clock::next).isInstanceOf(Invariant.InvariantViolation.class);
        assertThat(clock.lastTimestamp()).isEqualTo(Long.MAX_VALUE);
        assertThat(clock.leadMillis()).isEqualTo(Version.MAX_PHYSICAL_MILLIS - T);
    }

    @Test
    void ownStateThatIsNegativeIsIgnored() {
        long before = clock.nextTimestamp();
        clock.observe(-1);
        clock.observe(Long.MIN_VALUE);
        assertThat(clock.lastTimestamp()).isEqualTo(before);
    }

    @Test
    void aPhysicalClockBeyondWhatATimestampHoldsSaturates() {
        physical.set(Long.MAX_VALUE);
        Version a = clock.next();
        Version b = clock.next();
        assertThat(a.physicalMillis()).isEqualTo(Version.MAX_PHYSICAL_MILLIS);
        assertThat(b).isGreaterThan(a);
        assertThat(clock.admits(Long.MAX_VALUE)).isTrue();
        assertThat(clock.aheadMillis(Long.MAX_VALUE)).isZero();
    }
}
