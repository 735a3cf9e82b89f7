package io.cairn.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link StorageEngine}, run against every implementation: extend it and return
 * a fresh, empty engine from {@link #open()}. The engine is closed after each test.
 */
public abstract class StorageEngineConformance {
    protected StorageEngine engine;

    /** A new, empty engine; called once before each test. */
    protected abstract StorageEngine open();

    @BeforeEach
    void openEngine() {
        engine = open();
    }

    @AfterEach
    void closeEngine() {
        if (engine != null) {
            engine.close();
        }
    }

    // --- point operations

    @Test
    void missingKeyReadsAsNull() {
        assertThat(engine.get(b("absent"))).isNull();
    }

    @Test
    void putThenGet() {
        put("k", "v1");
        assertThat(engine.get(b("k"))).isEqualTo(b("v1"));
    }

    @Test
    void overwriteReplacesTheValue() {
        put("k", "v1");
        put("k", "second value");
        assertThat(engine.get(b("k"))).isEqualTo(b("second value"));
    }

    @Test
    void deleteRemovesTheKeyAndOnlyThatKey() {
        put("k", "v");
        put("k2", "v2");
        engine.write(new WriteBatch().delete(b("k")), Durability.SYNC);

        assertThat(engine.get(b("k"))).isNull();
        assertThat(engine.get(b("k2"))).isEqualTo(b("v2"));
        assertThat(keys(engine.scan(new byte[0], null, 10))).containsExactly("k2");
    }

    @Test
    void deletingAMissingKeyIsHarmless() {
        engine.write(new WriteBatch().delete(b("never")), Durability.SYNC);
        assertThat(engine.get(b("never"))).isNull();
        assertThat(engine.scan(new byte[0], null, 10)).isEmpty();
    }

    @Test
    void emptyValueIsStoredAndDistinctFromMissing() {
        engine.write(new WriteBatch().put(b("empty"), new byte[0]), Durability.SYNC);

        assertThat(engine.get(b("empty"))).isNotNull().isEmpty();
        List<StorageEngine.Entry> all = engine.scan(new byte[0], null, 10);
        assertThat(all).hasSize(1);
        assertThat(all.get(0).value()).isEmpty();
    }

    @Test
    void oneMebibyteValuesRoundTrip() {
        SplittableRandom random = new SplittableRandom(8);
        byte[] first = new byte[1 << 20];
        byte[] second = new byte[(1 << 20) + 1];
        random.nextBytes(first);
        random.nextBytes(second);
        engine.write(new WriteBatch().put(b("big1"), first).put(b("big2"), second), Durability.SYNC);

        assertThat(engine.get(b("big1"))).isEqualTo(first);
        assertThat(engine.get(b("big2"))).isEqualTo(second);
        List<StorageEngine.Entry> scanned = engine.scan(b("big"), null, 10);
        assertThat(scanned).hasSize(2);
        assertThat(scanned.get(1).value()).isEqualTo(second);
    }

    @Test
    void binaryKeysAndValuesWithZeroAndHighBytes() {
        byte[] key = {0, (byte) 0xFF, 0, 1};
        byte[] value = {(byte) 0x80, 0, 0, (byte) 0xFF};
        engine.write(new WriteBatch().put(key, value), Durability.SYNC);

        assertThat(engine.get(key)).isEqualTo(value);
        assertThat(engine.get(new byte[] {0, (byte) 0xFF, 0})).isNull();
        assertThat(engine.get(new byte[] {0, (byte) 0xFF, 0, 1, 0})).isNull();
    }

    @Test
    void storedBytesAreIsolatedFromCallerArrays() {
        byte[] key = b("key");
        byte[] value = b("value");
        engine.write(new WriteBatch().put(key, value), Durability.SYNC);
        value[0] = 'X';
        key[0] = 'X';

        byte[] read = engine.get(b("key"));
        assertThat(read).isEqualTo(b("value"));
        read[0] = 'Y';
        assertThat(engine.get(b("key"))).isEqualTo(b("value"));
        engine.scan(new byte[0], null, 1).get(0).value()[0] = 'Z';
        assertThat(engine.get(b("key"))).isEqualTo(b("value"));
    }

    @Test
    void bothDurabilitiesAreReadableAtOnce() {
        engine.write(new WriteBatch().put(b("a"), b("1")), Durability.ASYNC);
        engine.write(new WriteBatch().put(b("s"), b("2")), Durability.SYNC);

        assertThat(engine.get(b("a"))).isEqualTo(b("1"));
        assertThat(engine.get(b("s"))).isEqualTo(b("2"));
    }

    @Test
    void emptyBatchChangesNothing() {
        put("k", "v");
        engine.write(new WriteBatch(), Durability.SYNC);
        assertThat(keys(engine.scan(new byte[0], null, 10))).containsExactly("k");
    }

    // --- batches

    @Test
    void batchAppliesEveryMutation() {
        put("old", "x");
        engine.write(new WriteBatch()
                .put(b("a"), b("1"))
                .put(b("b"), b("2"))
                .delete(b("old"))
                .put(b("c"), b("3")), Durability.SYNC);

        assertThat(keys(engine.scan(new byte[0], null, 10))).containsExactly("a", "b", "c");
    }

    @Test
    void laterMutationsInABatchWin() {
        put("deleted-then-put", "old");
        engine.write(new WriteBatch()
                .put(b("dup"), b("first"))
                .put(b("dup"), b("second"))
                .put(b("put-then-deleted"), b("x"))
                .delete(b("put-then-deleted"))
                .delete(b("deleted-then-put"))
                .put(b("deleted-then-put"), b("new"))
                .put(b("r1"), b("x"))
                .deleteRange(b("r"), b("s"))
                .deleteRange(b("t"), b("u"))
                .put(b("t1"), b("kept")), Durability.SYNC);

        assertThat(engine.get(b("dup"))).isEqualTo(b("second"));
        assertThat(engine.get(b("put-then-deleted"))).isNull();
        assertThat(engine.get(b("deleted-then-put"))).isEqualTo(b("new"));
        assertThat(engine.get(b("r1"))).isNull();
        assertThat(engine.get(b("t1"))).isEqualTo(b("kept"));
    }

    @Test
    void aConcurrentScanSeesEachBatchWhollyOrNotAtAll() throws Exception {
        // The writer moves ten keys from generation g to g + 1 in one batch per step; a scan
        // that sees two generations at once has seen half a batch.
        int keys = 10;
        int generations = 300;
        engine.write(generationBatch(keys, 0), Durability.ASYNC);
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<String> torn = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            while (!done.get() && torn.get() == null) {
                List<StorageEngine.Entry> all = engine.scan(b("gen:"), b("gen;"), 100);
                if (all.size() != keys) {
                    torn.set("saw " + all.size() + " keys");
                }
                for (StorageEngine.Entry e : all) {
                    if (!Arrays.equals(e.value(), all.get(0).value())) {
                        torn.set("saw " + s(all.get(0).value()) + " and " + s(e.value()));
                    }
                }
            }
        });
        reader.start();
        for (int g = 1; g <= generations && torn.get() == null; g++) {
            engine.write(generationBatch(keys, g), Durability.ASYNC);
        }
        done.set(true);
        reader.join(10_000);
        assertThat(torn.get()).isNull();
        assertThat(engine.get(b("gen:0"))).isEqualTo(b("g" + generations));
    }

    @Test
    void aBatchWithAnInvertedRangeIsAllOrNothing() {
        // The contract makes a batch atomic. Whether the engine rejects an inverted range or
        // treats it as empty, the put before it must not be visible on its own.
        WriteBatch batch = new WriteBatch().put(b("first"), b("v")).deleteRange(b("z"), b("a"));
        boolean rejected;
        try {
            engine.write(batch, Durability.SYNC);
            rejected = false;
        } catch (RuntimeException e) {
            rejected = true;
        }
        assertThat(engine.get(b("first"))).as("rejected=%s", rejected).isEqualTo(rejected ? null : b("v"));
    }

    // --- scans

    @Test
    void scanIsInKeyOrderWithInclusiveLowerAndExclusiveUpperBound() {
        for (String k : List.of("d", "a", "c", "e", "b")) {
            put(k, "v" + k);
        }

        assertThat(keys(engine.scan(b("b"), b("d"), 10))).containsExactly("b", "c");
        assertThat(keys(engine.scan(b("a"), b("e"), 10))).containsExactly("a", "b", "c", "d");
        assertThat(keys(engine.scan(b("bb"), b("dd"), 10))).containsExactly("c", "d");
        assertThat(engine.scan(b("b"), b("c"), 10).get(0).value()).isEqualTo(b("vb"));
    }

    @Test
    void nullUpperBoundScansToTheEnd() {
        for (String k : List.of("a", "b", "c")) {
            put(k, "v");
        }
        engine.write(new WriteBatch().put(new byte[] {(byte) 0xFF, (byte) 0xFF}, b("last")), Durability.SYNC);

        List<StorageEngine.Entry> tail = engine.scan(b("b"), null, 10);
        assertThat(tail).hasSize(3);
        assertThat(tail.get(2).key()).isEqualTo(new byte[] {(byte) 0xFF, (byte) 0xFF});
    }

    @Test
    void limitCapsTheResultAndKeepsTheFirstKeys() {
        for (int i = 0; i < 20; i++) {
            put(String.format("k%02d", i), "v");
        }

        assertThat(keys(engine.scan(b("k"), null, 3))).containsExactly("k00", "k01", "k02");
        assertThat(keys(engine.scan(b("k05"), b("k99"), 2))).containsExactly("k05", "k06");
        assertThat(engine.scan(b("k"), null, 0)).isEmpty();
        assertThat(engine.scan(b("k"), null, 1000)).hasSize(20);
    }

    @Test
    void emptyRangesScanToNothing() {
        put("a", "v");
        put("b", "v");

        assertThat(engine.scan(b("a"), b("a"), 10)).as("from == to").isEmpty();
        assertThat(engine.scan(b("c"), null, 10)).as("past the last key").isEmpty();
        assertThat(engine.scan(b("a0"), b("a1"), 10)).as("a gap").isEmpty();
    }

    @Test
    void invertedRangeScansToNothing() {
        // The contract: entries with from <= key < to. For from > to there are none.
        put("a", "v");
        put("b", "v");
        put("c", "v");

        assertThat(engine.scan(b("c"), b("a"), 10)).isEmpty();
    }

    @Test
    void keysCompareAsUnsignedBytes() {
        byte[][] inOrder = {
            {},
            {0x00},
            {0x00, 0x00},
            {0x01},
            {0x01, 0x00},
            {0x01, (byte) 0xFF},
            {0x7F},
            {(byte) 0x80},
            {(byte) 0x80, 0x00},
            {(byte) 0xFE, (byte) 0xFF},
            {(byte) 0xFF},
            {(byte) 0xFF, 0x00},
            {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF},
        };
        WriteBatch batch = new WriteBatch();
        for (int i = inOrder.length - 1; i >= 0; i--) {
            batch.put(inOrder[i], new byte[] {(byte) i});
        }
        engine.write(batch, Durability.SYNC);

        List<StorageEngine.Entry> all = engine.scan(new byte[0], null, 100);
        assertThat(all).hasSize(inOrder.length);
        for (int i = 0; i < inOrder.length; i++) {
            assertThat(all.get(i).key()).as("position %d", i).isEqualTo(inOrder[i]);
            assertThat(all.get(i).value()).isEqualTo(new byte[] {(byte) i});
        }
        assertThat(engine.scan(new byte[] {0x02}, new byte[] {(byte) 0xFF}, 100)).hasSize(4);
        assertThat(engine.scan(new byte[] {(byte) 0x80}, null, 100)).hasSize(6);
    }

    // --- range deletes

    @Test
    void deleteRangeRemovesExactlyTheHalfOpenRange() {
        for (String k : List.of("a", "b", "ba", "bz", "c", "ca", "d")) {
            put(k, "v");
        }
        engine.write(new WriteBatch().deleteRange(b("b"), b("c")), Durability.SYNC);

        assertThat(keys(engine.scan(new byte[0], null, 100))).containsExactly("a", "c", "ca", "d");
        assertThat(engine.get(b("ba"))).isNull();
        assertThat(engine.get(b("c"))).isEqualTo(b("v"));
    }

    @Test
    void deleteRangeOverUnsignedHighBytes() {
        byte[] low = {0x01};
        byte[] mid = {(byte) 0x80};
        byte[] high = {(byte) 0xFF, 0x01};
        engine.write(new WriteBatch().put(low, b("l")).put(mid, b("m")).put(high, b("h")), Durability.SYNC);

        engine.write(new WriteBatch().deleteRange(new byte[] {0x02}, new byte[] {(byte) 0xFF}), Durability.SYNC);

        assertThat(engine.get(low)).isEqualTo(b("l"));
        assertThat(engine.get(mid)).isNull();
        assertThat(engine.get(high)).isEqualTo(b("h"));
    }

    @Test
    void emptyDeleteRangeDeletesNothing() {
        put("a", "v");
        put("b", "v");
        engine.write(new WriteBatch().deleteRange(b("a"), b("a")).deleteRange(b("x"), b("z")), Durability.SYNC);

        assertThat(keys(engine.scan(new byte[0], null, 10))).containsExactly("a", "b");
    }

    @Test
    void keysWrittenAfterADeleteRangeAreVisible() {
        put("m1", "old");
        engine.write(new WriteBatch().deleteRange(b("m"), b("n")), Durability.SYNC);
        put("m2", "new");

        assertThat(keys(engine.scan(b("m"), b("n"), 10))).containsExactly("m2");
        assertThat(engine.get(b("m1"))).isNull();
    }

    // --- helpers

    protected void put(String key, String value) {
        engine.write(new WriteBatch().put(b(key), b(value)), Durability.SYNC);
    }

    protected static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    protected static String s(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    protected static List<String> keys(List<StorageEngine.Entry> entries) {
        List<String> out = new ArrayList<>();
        for (StorageEngine.Entry e : entries) {
            out.add(s(e.key()));
        }
        return out;
    }

    /** Deletes the whole generation range and re-puts it, so half a batch shows missing keys too. */
    private static WriteBatch generationBatch(int keys, int generation) {
        WriteBatch batch = new WriteBatch().deleteRange(b("gen:"), b("gen;"));
        for (int k = 0; k < keys; k++) {
            batch.put(b("gen:" + k), b("g" + generation));
        }
        return batch;
    }
}
