package io.cairn.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.clock.HybridClock;
import io.cairn.clock.ManualClock;
import io.cairn.replica.LocalStore;
import io.cairn.storage.Durability;
import io.cairn.storage.Keyspace;
import io.cairn.storage.MemoryEngine;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.StorageException;
import io.cairn.storage.WriteBatch;
import io.cairn.clock.Version;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class VersionCeilingTest {
    private static final long T = 1_700_000_000_000L;

    @Test
    void aRestartedNodeIssuesVersionsAboveEveryVersionItIssuedBeforeEvenWithItsClockSetBack() {
        MemoryEngine engine = new MemoryEngine();
        ManualClock wall = new ManualClock(T);
        VersionCeiling before = new VersionCeiling(engine, LocalStore.direct(null, engine), new HybridClock(wall, 4));
        Version last = null;
        for (int i = 0; i < 50; i++) {
            wall.advance(100);
            last = next(before);
        }

        engine.crash();
        wall.set(T - 60_000);
        VersionCeiling after = new VersionCeiling(engine, LocalStore.direct(null, engine), new HybridClock(wall, 4));

        assertThat(next(after)).isGreaterThan(last);
    }

    /** Shards share the clock but not the ceiling: a restart under any shard count starts above all of them. */
    @Test
    void aRestartUnderAnotherShardCountIssuesVersionsAboveEveryShardsCeiling() {
        MemoryEngine engine = new MemoryEngine();
        ManualClock wall = new ManualClock(T);
        HybridClock clock = new HybridClock(wall, 4);
        LocalStore store = LocalStore.direct(null, engine);
        VersionCeiling zero = new VersionCeiling(engine, store, clock, new Shard(0, 3));
        VersionCeiling two = new VersionCeiling(engine, store, clock, new Shard(2, 3));
        next(zero);
        wall.advance(5_000);
        Version last = next(two);
        assertThat(two.ceiling()).as("shard 2 raised its own ceiling").isGreaterThan(zero.ceiling());

        for (int count : new int[] {1, 2, 3, 5}) {
            engine.crash();
            wall.set(T - 60_000);
            HybridClock restarted = new HybridClock(wall, 4);
            List<VersionCeiling> shards = new ArrayList<>();
            for (int s = 0; s < count; s++) {
                shards.add(new VersionCeiling(engine, LocalStore.direct(null, engine), restarted, new Shard(s, count)));
            }
            for (VersionCeiling shard : shards) {
                assertThat(next(shard)).as("a shard of %d after a restart", count).isGreaterThan(last);
            }
        }
    }

    /**
     * Found by the simulator: a node restarted within a lease, its clock a lease ahead of its wall
     * clock, took a ballot for a serial read; the raise put its ceiling another lease ahead, and
     * after a quick restart its clock was further ahead of every wall clock than the max offset
     * plus a lease.
     */
    @Test
    void aClockBeyondTheMaxOffsetRaisesTheCeilingNoFurtherThanTheOffsetPlusALeasePastTheWallClock() {
        MemoryEngine engine = new MemoryEngine();
        ManualClock wall = new ManualClock(T);
        HybridClock clock = new HybridClock(wall, 1, 500);
        clock.observe(Version.pack(T + VersionCeiling.LEASE_MILLIS, 0)); // the ceiling it restarted on
        VersionCeiling ceiling = new VersionCeiling(engine, LocalStore.direct(null, engine), clock);

        Version v = next(ceiling);
        assertThat(v.timestamp()).isLessThan(ceiling.ceiling());
        assertThat(ceiling.ceiling()).isEqualTo(Version.pack(T + 500 + VersionCeiling.LEASE_MILLIS, 0));

        // Further ahead than that (the wall clock went back): the ceiling covers what was issued, no more.
        wall.set(T - 60_000);
        for (int i = 0; i < 3; i++) {
            v = next(ceiling);
            assertThat(v.timestamp()).isLessThan(ceiling.ceiling());
        }
        assertThat(ceiling.ceiling()).isEqualTo(Version.pack(T + 500 + VersionCeiling.LEASE_MILLIS, 0));

        // Within the bound again, a raise is a lease past the latest issued time, as always.
        wall.set(T + 2_000);
        v = next(ceiling);
        assertThat(ceiling.ceiling()).isEqualTo(Version.pack(T + 2_000 + VersionCeiling.LEASE_MILLIS, 0));
    }

    @Test
    void aCeilingOfTheWrongLengthStopsTheStartInsteadOfBeingIgnored() {
        MemoryEngine engine = new MemoryEngine();
        engine.write(new WriteBatch().put(Keyspace.meta("version-ceiling/7"), new byte[] {1, 2, 3}), Durability.SYNC);
        assertThatThrownBy(() -> new VersionCeiling(engine, LocalStore.direct(null, engine), new HybridClock(new ManualClock(T), 1)))
                .isInstanceOf(StorageException.class).hasMessageContaining("version-ceiling/7").hasMessageContaining("3 bytes");
    }

    @Test
    void theCeilingIsWrittenOncePerHalfLeaseNotPerVersion() {
        CountingEngine engine = new CountingEngine();
        ManualClock wall = new ManualClock(T);
        VersionCeiling ceiling = new VersionCeiling(engine, LocalStore.direct(null, engine), new HybridClock(wall, 1));
        for (int i = 0; i < 1_000; i++) {
            wall.advance(10);
            Version v = next(ceiling);
            assertThat(v.timestamp()).isLessThan(ceiling.ceiling());
        }
        // 10 s of versions, raised when half of the 1 s lease is left: about twenty writes, all synced.
        assertThat(engine.syncWrites).isBetween(19, 21);
    }

    /** The core's thread never waits for the disk: a write waits for the ceiling only when it caught up. */
    @Test
    void versionsWaitInOrderOnlyWhileTheCeilingIsBehindThemAndARaiseStartsAheadOfTime() {
        MemoryEngine engine = new MemoryEngine();
        ManualClock wall = new ManualClock(T);
        QueuedStore store = new QueuedStore(engine);
        VersionCeiling ceiling = new VersionCeiling(engine, store, new HybridClock(wall, 1));
        List<Version> used = new ArrayList<>();

        ceiling.next(used::add, e -> { throw e; });
        ceiling.next(used::add, e -> { throw e; });
        assertThat(used).as("the first versions wait for the first ceiling").isEmpty();
        assertThat(ceiling.waiting()).isEqualTo(2);
        assertThat(store.queued()).as("one raise covers both").isEqualTo(1);

        store.runAll();
        assertThat(used).hasSize(2).isSorted();
        assertThat(ceiling.waiting()).isZero();

        wall.advance(VersionCeiling.LEASE_MILLIS / 2 + 1);
        ceiling.next(used::add, e -> { throw e; });
        assertThat(used).as("inside the lease a version is used at once").hasSize(3);
        assertThat(store.queued()).as("past half the lease the next raise starts in the background").isEqualTo(1);
        store.runAll();
        assertThat(ceiling.ceiling()).isGreaterThan(used.get(2).timestamp() + Version.pack(VersionCeiling.LEASE_MILLIS / 2, 0));
    }

    @Test
    void aFailedRaiseFailsTheWaitingWritesAndTheNextWriteTriesAgain() {
        MemoryEngine engine = new MemoryEngine();
        ManualClock wall = new ManualClock(T);
        QueuedStore store = new QueuedStore(engine);
        VersionCeiling ceiling = new VersionCeiling(engine, store, new HybridClock(wall, 1));
        List<Version> used = new ArrayList<>();
        List<StorageException> failures = new ArrayList<>();

        ceiling.next(used::add, failures::add);
        store.failNext = true;
        store.runAll();
        assertThat(used).isEmpty();
        assertThat(failures).hasSize(1);
        assertThat(ceiling.raiseFailures()).isEqualTo(1);

        ceiling.next(used::add, failures::add);
        store.runAll();
        assertThat(used).hasSize(1);
        assertThat(used.get(0).timestamp()).isLessThan(ceiling.ceiling());
    }

    private static Version next(VersionCeiling ceiling) {
        Version[] v = new Version[1];
        ceiling.next(x -> v[0] = x, e -> { throw e; });
        assertThat(v[0]).as("the direct store completes at once").isNotNull();
        return v[0];
    }

    private static final class CountingEngine implements StorageEngine {
        final MemoryEngine delegate = new MemoryEngine();
        int syncWrites;

        @Override
        public byte[] get(byte[] key) {
            return delegate.get(key);
        }

        @Override
        public void write(WriteBatch batch, Durability durability) {
            syncWrites += durability == Durability.SYNC ? 1 : 0;
            delegate.write(batch, durability);
        }

        @Override
        public List<Entry> scan(byte[] fromInclusive, byte[] toExclusive, int limit, long maxBytes) {
            return delegate.scan(fromInclusive, toExclusive, limit, maxBytes);
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
