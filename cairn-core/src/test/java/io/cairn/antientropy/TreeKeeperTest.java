package io.cairn.antientropy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The trees a replica keeps: only for partitions that hold records, with snapshot stamps that order against groups. */
class TreeKeeperTest {
    private final AtomicLong clock = new AtomicLong(100);

    @Test
    void anEmptyPartitionIsAnsweredWithoutATree() {
        TreeKeeper keeper = new TreeKeeper(clock::incrementAndGet, Map.of());
        for (int ns = 0; ns < 50; ns++) {
            for (int p = 0; p < 256; p++) {
                TreeKeeper.Snapshot s = keeper.snapshot(ns, p, new int[0]);
                assertThat(s.hashes()).hasSize(1 + SegmentTree.BRANCHES).containsOnly(0L);
                assertThat(keeper.snapshot(ns, p, new int[] {3, 7}).hashes()).hasSize(2 * SegmentTree.LEAVES_PER_BRANCH).containsOnly(0L);
            }
        }
        assertThat(keeper.trees()).as("12 800 empty partitions exchanged, no tree kept").isZero();
    }

    @Test
    void aSnapshotAfterAGroupEndedHoldsItsChangesAndIsStampedAboveIt() {
        TreeKeeper keeper = new TreeKeeper(clock::incrementAndGet, Map.of());
        TreeKeeper.Snapshot before = keeper.snapshot(1, 2, new int[0]);
        long group = keeper.beginGroup();
        assertThat(before.stamp()).isLessThan(group);
        byte[] key = "k".getBytes(StandardCharsets.UTF_8);
        keeper.change(1, 2, key, 0, 42);
        TreeKeeper.Snapshot during = keeper.snapshot(1, 2, new int[0]);
        assertThat(during.stamp()).as("a group in flight: below its stamp").isLessThan(group);
        keeper.endGroup();
        TreeKeeper.Snapshot after = keeper.snapshot(1, 2, new int[0]);
        assertThat(after.stamp()).isGreaterThan(group);
        assertThat(after.hashes()[0]).isEqualTo(42L);
        assertThat(keeper.trees()).isEqualTo(1);
        int branch = SegmentTree.segmentOf(key) / SegmentTree.LEAVES_PER_BRANCH;
        assertThat(keeper.snapshot(1, 2, new int[] {branch}).hashes()).contains(42L);
    }
}
