package io.cairn.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.record.Record;
import io.cairn.replica.LocalStore;
import io.cairn.record.RecordCodec;
import io.cairn.storage.Durability;
import io.cairn.storage.MemoryEngine;
import io.cairn.storage.WriteBatch;
import io.cairn.clock.Version;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class HintStoreTest {
    private final MemoryEngine engine = new MemoryEngine();
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final LocalStore store = LocalStore.direct(null, engine);
    private final HintStore hints = new HintStore(engine, store, now::get, 60_000);

    @Test
    void deliveringOldestFirstKeepsFindingTheRestAndTheOldestAge() {
        for (int i = 0; i < 10; i++) {
            now.addAndGet(10);
            add(2, "k" + i);
        }
        List<Hint> first = pending(hints, 2, 4);
        assertThat(first).extracting(h -> key(h)).containsExactly("k0", "k1", "k2", "k3");
        first.forEach(hints::delivered);
        assertThat(hints.backlog().get(2).count()).isEqualTo(6);
        assertThat(hints.backlog().get(2).oldestMillis()).isEqualTo(1_000_050);
        assertThat(pending(hints, 2, 100)).extracting(h -> key(h)).containsExactly("k4", "k5", "k6", "k7", "k8", "k9");
    }

    @Test
    void aHintStoredAfterTheWallClockSteppedBackIsStillFoundAfterTheOthers() {
        add(2, "before");
        pending(hints, 2, 10).forEach(hints::delivered);
        add(2, "second");
        pending(hints, 2, 1);
        now.addAndGet(-30_000);
        add(2, "after-step-back");
        assertThat(pending(hints, 2, 10)).extracting(h -> key(h)).containsExactly("second", "after-step-back");
    }

    @Test
    void anUndeliveredHintIsOfferedAgainAndSurvivesARestart() {
        add(3, "a");
        add(3, "b");
        List<Hint> round = pending(hints, 3, 10);
        hints.delivered(round.get(1)); // "a" was refused by the target
        assertThat(pending(hints, 3, 10)).extracting(h -> key(h)).containsExactly("a");
        HintStore reopened = new HintStore(engine, store, now::get, 60_000);
        assertThat(pending(reopened, 3, 10)).extracting(h -> key(h)).containsExactly("a");
        assertThat(reopened.backlog().get(3).count()).isEqualTo(1);
    }

    /** Found while narrowing decode's catch: a hint key too short for its sequence stopped a restart. */
    @Test
    void corruptHintsOfEveryShapeAreDroppedAndCountedAndARestartSurvivesThem() {
        add(2, "good");
        byte[] record = RecordCodec.encode(bytes("k"), Record.value(new Version(Version.pack(now.get(), 0), 1), Record.NO_EXPIRY, null, new byte[] {1}));
        byte[] shortKey = ByteBuffer.allocate(1 + 2 + 8 + 1).put(HintStore.HINT).putShort((short) 2).putLong(now.get()).put((byte) 0).array();
        engine.write(new WriteBatch()
                .put(hintKey(2, 1), ByteBuffer.allocate(8 + record.length).putInt(1).putInt(-1).put(record).array())
                .put(hintKey(2, 2), ByteBuffer.allocate(8 + 1).putInt(1).putInt(1_000).put((byte) 'k').array())
                .put(hintKey(2, 3), ByteBuffer.allocate(8 + 1 + record.length).putInt(1).putInt(1).put((byte) 'x').put(record).array())
                .put(hintKey(2, 4), new byte[] {0, 0})
                .put(shortKey, ByteBuffer.allocate(8 + 1 + record.length).putInt(1).putInt(1).put((byte) 'k').put(record).array()),
                Durability.SYNC);

        HintStore reopened = new HintStore(engine, store, now::get, 60_000);

        assertThat(pending(reopened, 2, 10)).extracting(h -> key(h)).containsExactly("good");
        assertThat(reopened.droppedCount()).isEqualTo(5);
        assertThat(reopened.backlog().get(2).count()).isEqualTo(1);
        assertThat(engine.scan(new byte[] {HintStore.HINT}, new byte[] {HintStore.HINT + 1}, 10)).as("corrupt hints are deleted").hasSize(1);
    }

    /** A well-formed hint key of {@code target} whose sequence is far above those the store issues. */
    private byte[] hintKey(int target, long sequence) {
        return ByteBuffer.allocate(1 + 2 + 8 + 8).put(HintStore.HINT).putShort((short) target).putLong(now.get() + 1)
                .putLong(1_000_000 + sequence).array();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private void add(int target, String key) {
        add(hints, target, key);
    }

    private void add(HintStore into, int target, String key) {
        into.add(target, 1, key.getBytes(StandardCharsets.UTF_8),
                Record.value(new Version(Version.pack(now.get(), 0), 1), Record.NO_EXPIRY, null, new byte[] {1}));
    }

    private static List<Hint> pending(HintStore store, int target, int limit) {
        List<Hint> out = new ArrayList<>();
        store.pending(target, limit, out::addAll);
        return out;
    }

    /** Found by the overload benchmark: 1 024 hints of 256 KiB per scan took a 512 MiB heap down. */
    @Test
    void scansOfLargeHintsAreBoundedByBytesAndStillSeeEveryHint() {
        byte[] big = new byte[1 << 20];
        for (int i = 0; i < 20; i++) {
            hints.add(2, 1, bytes("big" + i), Record.value(new Version(Version.pack(now.get(), 0), 1), Record.NO_EXPIRY, null, big));
        }
        List<Hint> batch = pending(hints, 2, 1_024);
        assertThat(batch).as("a batch holds about HintStore.SCAN_BYTES, not 1 024 hints").hasSizeBetween(1, (int) (HintStore.SCAN_BYTES / big.length) + 1);

        HintStore reopened = new HintStore(engine, store, now::get, 60_000);
        assertThat(reopened.pendingCount()).as("the recovery scan continues past byte-bounded chunks").isEqualTo(20);
        now.addAndGet(120_000);
        reopened.dropExpired();
        assertThat(reopened.pendingCount()).as("expiry continues past byte-bounded chunks").isZero();
        assertThat(engine.scan(new byte[] {HintStore.HINT}, new byte[] {HintStore.HINT + 1}, 100)).isEmpty();
    }

    /** A store whose jobs complete only when the test runs them: the disk has not got to them yet. */
    @Test
    void theBacklogCountsAHintOnlyOnceItsWriteCompletedAndADeliveryOnlyOnceItsDeleteDid() {
        QueuedStore slow = new QueuedStore(engine);
        HintStore lagging = new HintStore(engine, slow, now::get, 60_000);
        lagging.add(2, 1, bytes("k"), Record.value(new Version(Version.pack(now.get(), 0), 1), Record.NO_EXPIRY, null, new byte[] {1}));
        assertThat(lagging.pendingCount()).isZero();
        assertThat(engine.scan(new byte[] {HintStore.HINT}, new byte[] {HintStore.HINT + 1}, 10)).as("nothing written on the caller's thread").isEmpty();

        List<Hint> found = new ArrayList<>();
        lagging.pending(2, 10, found::addAll);
        slow.runAll();
        assertThat(lagging.pendingCount()).isEqualTo(1);
        assertThat(found).as("the scan ran after the write it followed").hasSize(1);

        lagging.delivered(found.get(0));
        assertThat(lagging.pendingCount()).isEqualTo(1);
        slow.runOne();
        assertThat(lagging.pendingCount()).isZero();
        assertThat(lagging.deliveredCount()).isEqualTo(1);
    }

    @Test
    void shardsOfOneNodeShareTheKeyspaceButEachHandsOffOnlyItsOwnHints() {
        HintStore zero = new HintStore(engine, store, now::get, 60_000, new Shard(0, 2));
        HintStore one = new HintStore(engine, store, now::get, 60_000, new Shard(1, 2));
        for (int i = 0; i < 6; i++) {
            add(zero, 2, "zero" + i);
            add(one, 2, "one" + i);
        }
        assertThat(zero.pendingCount()).isEqualTo(6);
        assertThat(one.pendingCount()).isEqualTo(6);
        assertThat(pending(zero, 2, 100)).extracting(h -> key(h)).containsExactly("zero0", "zero1", "zero2", "zero3", "zero4", "zero5");
        List<Hint> ofOne = pending(one, 2, 100);
        assertThat(ofOne).extracting(h -> key(h)).containsExactly("one0", "one1", "one2", "one3", "one4", "one5");

        ofOne.forEach(one::delivered);
        assertThat(one.pendingCount()).isZero();
        assertThat(zero.pendingCount()).as("another shard's hand-off leaves these alone").isEqualTo(6);
        assertThat(pending(zero, 2, 100)).hasSize(6);
    }

    /** A restart may change the shard count: every hint left is owned by exactly one new shard. */
    @Test
    void afterARestartUnderAnotherShardCountEveryHintHasExactlyOneOwner() {
        List<HintStore> before = List.of(new HintStore(engine, store, now::get, 60_000, new Shard(0, 3)),
                new HintStore(engine, store, now::get, 60_000, new Shard(1, 3)), new HintStore(engine, store, now::get, 60_000, new Shard(2, 3)));
        for (int i = 0; i < 30; i++) {
            now.addAndGet(i % 4 == 0 ? 1 : 0);
            add(before.get(i % 3), 2 + i % 2, "k" + i);
        }
        for (int count : new int[] {1, 2, 4, 3}) {
            List<String> seen = new ArrayList<>();
            long counted = 0;
            for (int s = 0; s < count; s++) {
                HintStore shard = new HintStore(engine, store, now::get, 60_000, new Shard(s, count));
                counted += shard.pendingCount();
                pending(shard, 2, 100).forEach(h -> seen.add(key(h)));
                pending(shard, 3, 100).forEach(h -> seen.add(key(h)));
            }
            assertThat(counted).as("counted under %d shards", count).isEqualTo(30);
            assertThat(seen).as("handed off under %d shards", count).hasSize(30).doesNotHaveDuplicates();
        }
        HintStore later = new HintStore(engine, store, now::get, 60_000, new Shard(1, 2));
        HintStore other = new HintStore(engine, store, now::get, 60_000, new Shard(0, 2));
        add(later, 2, "new");
        add(other, 2, "new-other");
        assertThat(engine.scan(new byte[] {HintStore.HINT}, new byte[] {HintStore.HINT + 1}, 100))
                .as("new hints take fresh keys: none overwrote an old one").hasSize(32);
    }

    private static String key(Hint h) {
        return new String(h.key(), StandardCharsets.UTF_8);
    }
}
