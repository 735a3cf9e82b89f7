package io.cairn.antientropy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.clock.Version;
import io.cairn.property.Gen;
import io.cairn.property.Trials;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The anti-entropy tree: incremental updates equal a rebuild, and an exchange finds exactly the segments that differ. */
class SegmentTreeProperties {
    private static Record record(Gen gen) {
        Version v = new Version(Version.pack(gen.between(1L, 1L << 40), gen.between(0, 5)), gen.between(1, 5));
        return gen.chance(0.2) ? Record.tombstone(v)
                : Record.value(v, gen.chance(0.3) ? gen.between(1L, 1L << 42) : Record.NO_EXPIRY, gen.chance(0.5) ? null : "text/plain",
                gen.bytes(40));
    }

    private static SegmentTree built(Map<String, Record> data) {
        SegmentTree t = new SegmentTree();
        data.forEach((k, r) -> {
            byte[] key = k.getBytes(StandardCharsets.UTF_8);
            t.change(key, 0, SegmentTree.entryHash(key, r));
        });
        return t;
    }

    @Test
    void incrementalUpdatesInAnyOrderEqualARebuild() {
        Trials.run(301, 300, 50, gen -> {
            Map<String, Record> data = new TreeMap<>();
            SegmentTree kept = new SegmentTree();
            int steps = gen.between(1, 200);
            for (int i = 0; i < steps; i++) {
                String k = "k" + gen.between(0, 60);
                byte[] key = k.getBytes(StandardCharsets.UTF_8);
                Record before = data.get(k);
                Record after = gen.chance(0.15) ? null : record(gen);
                kept.change(key, SegmentTree.entryHash(key, before), SegmentTree.entryHash(key, after));
                if (after == null) {
                    data.remove(k);
                } else {
                    data.put(k, after);
                }
            }
            assertThat(kept).isEqualTo(built(data));
            assertThat(kept.root()).isEqualTo(built(data).root());
            assertThat(SegmentTree.decode(kept.encode())).isEqualTo(kept);
        });
    }

    @Test
    void anExchangeFindsExactlyTheSegmentsOfTheKeysThatDiffer() {
        Trials.run(302, 200, 50, gen -> {
            Map<String, Record> mine = new TreeMap<>();
            int n = gen.between(0, 2_000);
            for (int i = 0; i < n; i++) {
                mine.put("key-" + i, record(gen));
            }
            Map<String, Record> theirs = new TreeMap<>(mine);
            TreeSet<Integer> expected = new TreeSet<>();
            int changes = gen.between(0, 12);
            for (int c = 0; c < changes; c++) {
                String k = "key-" + gen.between(0, n + 10);
                Record r = switch (gen.between(0, 2)) {
                    case 0 -> null;
                    case 1 -> record(gen);
                    default -> {
                        // Same version, other bytes: what a silently corrupted copy looks like.
                        Record old = theirs.get(k);
                        yield old == null || old.tombstone() ? record(gen)
                                : Record.value(old.version(), old.expiresAtMillis(), old.contentType(), flip(old.value(), gen));
                    }
                };
                if (r == null) {
                    theirs.remove(k);
                } else {
                    theirs.put(k, r);
                }
            }
            // The segments that must differ: those of keys whose records (bytes included) now differ.
            for (String k : new TreeSet<>(union(mine, theirs))) {
                Record a = mine.get(k);
                Record b = theirs.get(k);
                byte[] key = k.getBytes(StandardCharsets.UTF_8);
                if (!same(a, b)) {
                    expected.add(SegmentTree.segmentOf(key));
                }
            }
            List<Integer> found = built(mine).differingSegments(built(theirs));
            // XOR can cancel only if two keys' changes collide in one segment: astronomically unlikely with 64-bit hashes.
            assertThat(new TreeSet<>(found)).isEqualTo(expected);
        });
    }

    /** Whether two copies of a key's record are the same, bytes included (null: no record). */
    private static boolean same(Record a, Record b) {
        if (a == null || b == null) {
            return a == b;
        }
        return a.version().equals(b.version()) && a.tombstone() == b.tombstone() && a.expiresAtMillis() == b.expiresAtMillis()
                && java.util.Arrays.equals(a.value(), b.value()) && java.util.Objects.equals(a.contentType(), b.contentType());
    }

    private static byte[] flip(byte[] v, Gen gen) {
        byte[] c = v.clone();
        if (c.length == 0) {
            return new byte[] {1};
        }
        c[gen.between(0, c.length - 1)] ^= (byte) (1 << gen.between(0, 7));
        return c;
    }

    private static List<String> union(Map<String, Record> a, Map<String, Record> b) {
        List<String> all = new ArrayList<>(a.keySet());
        all.addAll(b.keySet());
        return all;
    }

    @Test
    void everyEntryChangesItsSegmentAndADamagedStoredTreeIsRefused() {
        Trials.run(303, 300, 10, gen -> {
            byte[] key = gen.bytes(1, 30);
            Record r = record(gen);
            assertThat(SegmentTree.entryHash(key, r)).isNotZero();
            assertThat(SegmentTree.entryHash(key, null)).isZero();
            assertThat(SegmentTree.segmentOf(key)).isBetween(0, SegmentTree.SEGMENTS - 1);
        });
        SegmentTree t = new SegmentTree();
        t.change("a".getBytes(StandardCharsets.UTF_8), 0, 42);
        byte[] stored = t.encode();
        assertThat(stored).hasSize(SegmentTree.ENCODED_BYTES);
        stored[100] ^= 1;
        assertThatThrownBy(() -> SegmentTree.decode(stored)).isInstanceOf(CorruptRecordException.class);
        assertThatThrownBy(() -> SegmentTree.decode(new byte[10])).isInstanceOf(CorruptRecordException.class);
    }
}
