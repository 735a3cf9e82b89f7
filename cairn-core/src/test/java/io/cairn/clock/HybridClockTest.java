package io.cairn.clock;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.version.Version;
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
}
