package io.cairn.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.antientropy.PurgeGate;
import io.cairn.antientropy.SegmentKeys;
import io.cairn.antientropy.SegmentTree;
import io.cairn.antientropy.TreeKeeper;
import io.cairn.clock.HybridClock;
import io.cairn.clock.ManualClock;
import io.cairn.clock.Version;
import io.cairn.namespace.Namespace;
import io.cairn.placement.Partitioner;
import io.cairn.property.Trials;
import io.cairn.record.Record;
import io.cairn.request.Limits;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import io.cairn.storage.Durability;
import io.cairn.storage.Keyspace;
import io.cairn.storage.MemoryEngine;
import io.cairn.storage.WriteBatch;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** A cluster replica's segment trees, scrub and safe purge rule, over the in-memory engine. */
class LocalReplicaAntiEntropyTest {
    private static final long T = 1_700_000_000_000L;
    private static final long GRACE = 10_000;
    private static final Namespace NS = new Namespace(Namespace.DEFAULT_ID, Namespace.DEFAULT_NAME, new Partitioner(8), 0);

    private final ManualClock physical = new ManualClock(T);
    private final MemoryEngine engine = new MemoryEngine();
    private final AtomicBoolean confirmed = new AtomicBoolean(true);
    private final PurgeGate gate = (ns, partition, branch, stamp) -> confirmed.get();

    private LocalReplica replica(long grace) {
        return new LocalReplica(engine, new HybridClock(physical, 1), Durability.SYNC, grace, Limits.DEFAULTS,
                new ReplicaAntiEntropy(true, gate, 1_000));
    }

    @Test
    void treesKeptUpToDateEqualTreesRebuiltFromStorage() {
        Trials.run(0xAE_7EE5L, 40, 200, gen -> {
            MemoryEngine disk = new MemoryEngine();
            ManualClock wall = new ManualClock(T);
            LocalReplica r = new LocalReplica(disk, new HybridClock(wall, 1), Durability.SYNC, 100, Limits.DEFAULTS,
                    new ReplicaAntiEntropy(true, PurgeGate.ALONE, 1_000));
            buildTrees(r);
            for (int step = 0; step < gen.size(); step++) {
                byte[] key = ("k" + gen.between(0, 30)).getBytes(StandardCharsets.UTF_8);
                Version v = new Version(Version.pack(wall.nowMillis() + gen.between(-50L, 50L), gen.between(0, 9)), gen.between(1, 3));
                Record rec = gen.chance(0.3) ? Record.tombstone(v)
                        : Record.value(v, gen.chance(0.3) ? wall.nowMillis() + gen.between(1L, 200L) : Record.NO_EXPIRY, null, gen.bytes(20));
                r.apply(List.of(WriteRequest.of(NS, new Op.Apply(key, rec))));
                if (gen.chance(0.2)) {
                    wall.advance(gen.between(1L, 300L));
                    r.sweep(100, 100);
                }
                if (gen.chance(0.1)) {
                    r.scrub(gen.between(1, 10), Long.MAX_VALUE);
                }
            }
            long before = r.trees().mismatchedPartitions();
            // A full pass rebuilds every partition's tree from storage: none may differ.
            passUntilEnd(r);
            passUntilEnd(r);
            assertThat(r.trees().mismatchedPartitions()).isEqualTo(before);
        });
    }

    @Test
    void aTombstonePastItsGraceWaitsForTheGateAndThenLeavesTheTree() {
        LocalReplica r = replica(GRACE);
        buildTrees(r);
        apply(r, "k", Record.tombstone(new Version(Version.pack(T, 0), 2)));
        long[] withTombstone = r.summary(NS, NS.partitionOf(b("k")), new int[0]).hashes();
        assertThat(withTombstone[0]).isNotZero();

        confirmed.set(false);
        physical.set(T + GRACE + 1);
        r.sweep(100, 100);
        assertThat(r.readStored(NS, b("k"))).as("held back: not every replica is known to hold it").isNotNull();
        assertThat(r.stats().purgesHeld()).isEqualTo(1);

        confirmed.set(true);
        physical.advance(500);
        r.sweep(100, 100);
        assertThat(r.readStored(NS, b("k"))).as("not yet due again (recheck interval)").isNotNull();
        physical.advance(600);
        r.sweep(100, 100);
        assertThat(r.readStored(NS, b("k"))).isNull();
        assertThat(r.stats().tombstonesPurged()).isEqualTo(1);
        assertThat(r.summary(NS, NS.partitionOf(b("k")), new int[0]).hashes()[0]).as("the root without the tombstone").isZero();
    }

    /** From outside: after a restart, earlier tombstones' expiry entries were taken for stale and never purged. */
    @Test
    void aTombstoneIsPurgedAfterARestartWithAnotherGrace() {
        LocalReplica r = replica(GRACE);
        apply(r, "k", Record.tombstone(new Version(Version.pack(T, 0), 2)));

        LocalReplica restarted = replica(GRACE * 2);
        physical.set(T + GRACE + 1);
        restarted.sweep(100, 100);
        assertThat(restarted.readStored(NS, b("k"))).as("the longer grace is not over").isNotNull();
        assertThat(restarted.stats().staleExpiryEntries()).isZero();
        physical.set(T + 2 * GRACE + 1);
        restarted.sweep(100, 100);
        assertThat(restarted.readStored(NS, b("k"))).isNull();
    }

    @Test
    void theScrubFindsAndQuarantinesACorruptRecordAndAHealthyCopyRepairsIt() {
        LocalReplica r = replica(GRACE);
        buildTrees(r);
        Record good = Record.value(new Version(Version.pack(T, 0), 2), Record.NO_EXPIRY, null, b("value"));
        apply(r, "k", good);
        int partition = NS.partitionOf(b("k"));
        long[] healthy = r.summary(NS, partition, new int[0]).hashes();
        byte[] storageKey = Keyspace.data(NS.id(), partition, b("k"));
        byte[] raw = engine.get(storageKey);
        raw[raw.length - 6] ^= 0x40;
        engine.write(new WriteBatch().put(storageKey, raw), Durability.SYNC);

        passUntilEnd(r);
        assertThat(r.stats().corruptFound()).isEqualTo(1);
        assertThat(engine.get(Keyspace.quarantine(storageKey))).isEqualTo(raw);
        assertThat(r.summary(NS, partition, new int[0]).hashes()).as("the tree now shows the corrupt copy").isNotEqualTo(healthy);
        SegmentKeys listed = r.segmentKeys(NS, partition, new int[] {SegmentTree.segmentOf(b("k"))}, 1 << 20);
        assertThat(listed.keys()).singleElement().satisfies(k -> assertThat(k.corrupt()).isTrue());
        assertThat(r.read(NS, b("k"))).isInstanceOf(OpResult.Failed.class);

        passUntilEnd(r);
        assertThat(r.stats().corruptFound()).as("counted once").isEqualTo(1);

        apply(r, "k", good);
        assertThat(r.stats().corruptRepaired()).isEqualTo(1);
        assertThat(r.summary(NS, partition, new int[0]).hashes()).isEqualTo(healthy);
        assertThat(((OpResult.Found) r.read(NS, b("k"))).record().value()).isEqualTo(b("value"));
    }

    @Test
    void treesStoredAtACleanShutdownAreReadyAtTheNextStartAndACrashRebuildsThem() {
        LocalReplica r = replica(GRACE);
        buildTrees(r);
        for (int i = 0; i < 50; i++) {
            apply(r, "k" + i, Record.value(new Version(Version.pack(T, i), 2), Record.NO_EXPIRY, null, b("v" + i)));
        }
        long[] before = r.summary(NS, 3, new int[0]).hashes();
        r.persistTrees();

        LocalReplica clean = replica(GRACE);
        assertThat(clean.summary(NS, 3, new int[0])).as("loaded, ready at once").isNotNull();
        assertThat(clean.summary(NS, 3, new int[0]).hashes()).isEqualTo(before);
        apply(clean, "another", Record.value(new Version(Version.pack(T, 99), 2), Record.NO_EXPIRY, null, b("x")));

        // A crash now: the mark was removed at start, so the next start must rebuild.
        LocalReplica crashed = replica(GRACE);
        assertThat(crashed.summary(NS, 3, new int[0])).as("being built").isNull();
        passUntilEnd(crashed);
        assertThat(crashed.trees().allReady()).isTrue();
        assertThat(crashed.summary(NS, 3, new int[0]).hashes()).isEqualTo(clean.summary(NS, 3, new int[0]).hashes());
    }

    @Test
    void aListingStopsAtItsByteBoundInKeyOrder() {
        LocalReplica r = replica(GRACE);
        List<Integer> segments = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            byte[] key = b("key-" + i);
            if (NS.partitionOf(key) == 0) {
                apply(r, "key-" + i, Record.value(new Version(Version.pack(T, i), 2), Record.NO_EXPIRY, null, b("v")));
                segments.add(SegmentTree.segmentOf(key));
            }
        }
        int[] asked = segments.stream().distinct().mapToInt(Integer::intValue).toArray();
        SegmentKeys all = r.segmentKeys(NS, 0, asked, 1 << 20);
        assertThat(all.truncated()).isFalse();
        assertThat(all.keys()).hasSize(segments.size());
        SegmentKeys some = r.segmentKeys(NS, 0, asked, 200);
        assertThat(some.truncated()).isTrue();
        assertThat(some.keys().size()).isLessThan(all.keys().size());
        assertThat(some.keys()).usingRecursiveComparison().isEqualTo(all.keys().subList(0, some.keys().size()));
        for (int i = 1; i < all.keys().size(); i++) {
            assertThat(java.util.Arrays.compareUnsigned(all.keys().get(i - 1).key(), all.keys().get(i).key())).isNegative();
        }
    }

    @Test
    void aSnapshotTakenWhileAGroupIsInFlightIsStampedBeforeIt() {
        long[] next = {100};
        TreeKeeper keeper = new TreeKeeper(() -> next[0]++, java.util.Map.of());
        long group = keeper.beginGroup();
        TreeKeeper.Snapshot during = keeper.snapshot(1, 0, new int[0]);
        keeper.change(1, 0, b("k"), 0, 42);
        keeper.endGroup();
        TreeKeeper.Snapshot after = keeper.snapshot(1, 0, new int[0]);
        assertThat(during.stamp()).isLessThan(group);
        assertThat(during.hashes()[0]).isZero();
        assertThat(after.stamp()).isGreaterThan(group);
        assertThat(after.hashes()[0]).isEqualTo(42);
    }

    private void apply(LocalReplica r, String key, Record record) {
        WriteOutcome outcome = r.apply(List.of(WriteRequest.of(NS, new Op.Apply(b(key), record)))).get(0);
        assertThat(outcome).isInstanceOf(WriteOutcome.Executed.class);
    }

    private static void buildTrees(LocalReplica r) {
        passUntilEnd(r);
    }

    private static void passUntilEnd(LocalReplica r) {
        while (!r.scrub(7, Long.MAX_VALUE).passEnded()) {
            // next step
        }
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
