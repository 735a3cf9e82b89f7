package io.cairn.server.rocks;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.property.Gen;
import io.cairn.property.Trials;
import io.cairn.storage.Durability;
import io.cairn.storage.MemoryEngine;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.WriteBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RocksDB against the in-memory oracle: one random log of puts, deletes, range deletes, batches,
 * gets, scans and restarts, applied to both, must give identical answers at every step.
 *
 * <p>Keys come from a tiny alphabet (including 0x00, 0x7F, 0x80 and 0xFF, so signed/unsigned
 * confusion shows) and are at most three bytes long, so operations collide on the same keys.
 */
class EngineEquivalenceProperties {
    private static final byte[] ALPHABET = {0x00, 0x01, 'a', 0x7F, (byte) 0x80, (byte) 0xFF};
    private static final HexFormat HEX = HexFormat.of();

    @TempDir
    Path dir;

    @Test
    void rocksAnswersExactlyAsTheMemoryEngine() {
        int[] trial = {0};
        Trials.run(0xE9_1DL, 60, 300, gen -> {
            Path db = dir.resolve("trial-" + trial[0]++);
            MemoryEngine memory = new MemoryEngine();
            StorageEngine[] rocks = {new RocksEngine(db, RocksEngineTest.SMALL)};
            List<String> log = new ArrayList<>();
            try {
                for (int step = 0; step < gen.size(); step++) {
                    step(gen, memory, rocks, db, log);
                }
                assertThat(dump(rocks[0])).as("final state after %s", log).isEqualTo(dump(memory));
            } finally {
                rocks[0].close();
                delete(db);
            }
        });
    }

    private static void step(Gen gen, MemoryEngine memory, StorageEngine[] rocks, Path db, List<String> log) {
        int kind = gen.between(0, 99);
        if (kind < 25) {
            write(gen, memory, rocks[0], log, new WriteBatch().put(key(gen), value(gen)), "put");
        } else if (kind < 35) {
            write(gen, memory, rocks[0], log, new WriteBatch().delete(key(gen)), "delete");
        } else if (kind < 40) {
            byte[][] range = range(gen);
            write(gen, memory, rocks[0], log, new WriteBatch().deleteRange(range[0], range[1]), "deleteRange");
        } else if (kind < 55) {
            WriteBatch batch = new WriteBatch();
            int n = gen.between(1, 8);
            for (int i = 0; i < n; i++) {
                switch (gen.between(0, 5)) {
                    case 0, 1, 2 -> batch.put(key(gen), value(gen));
                    case 3, 4 -> batch.delete(key(gen));
                    default -> {
                        byte[][] range = range(gen);
                        batch.deleteRange(range[0], range[1]);
                    }
                }
            }
            write(gen, memory, rocks[0], log, batch, "batch");
        } else if (kind < 75) {
            byte[] key = key(gen);
            log.add("get " + HEX.formatHex(key));
            assertThat(rocks[0].get(key)).as("get %s after %s", HEX.formatHex(key), log).isEqualTo(memory.get(key));
        } else if (kind < 98) {
            byte[][] range = range(gen);
            byte[] to = gen.chance(0.3) ? null : range[1];
            int limit = gen.pick(0, 1, 2, 5, 20, 1000);
            log.add("scan " + HEX.formatHex(range[0]) + ".." + (to == null ? "end" : HEX.formatHex(to)) + " limit " + limit);
            assertThat(render(rocks[0].scan(range[0], to, limit))).as("%s", log).isEqualTo(render(memory.scan(range[0], to, limit)));
        } else {
            // Restart: an orderly close keeps every write, which for the model is a synced crash.
            log.add("restart");
            rocks[0].close();
            rocks[0] = new RocksEngine(db, RocksEngineTest.SMALL);
            memory.syncWal();
            memory.crash();
        }
    }

    private static void write(Gen gen, MemoryEngine memory, StorageEngine rocks, List<String> log, WriteBatch batch, String what) {
        Durability durability = gen.chance(0.1) ? Durability.SYNC : Durability.ASYNC;
        log.add(what + describe(batch));
        memory.write(batch, durability);
        rocks.write(batch, durability);
    }

    private static byte[] key(Gen gen) {
        byte[] key = new byte[gen.between(0, 3)];
        for (int i = 0; i < key.length; i++) {
            key[i] = ALPHABET[gen.between(0, ALPHABET.length - 1)];
        }
        return key;
    }

    /** Two keys in unsigned order: {@code from <= to}. */
    private static byte[][] range(Gen gen) {
        byte[] a = key(gen);
        byte[] b = key(gen);
        return Arrays.compareUnsigned(a, b) <= 0 ? new byte[][] {a, b} : new byte[][] {b, a};
    }

    private static byte[] value(Gen gen) {
        return gen.chance(0.02) ? gen.bytes(64 * 1024, 128 * 1024) : gen.bytes(16);
    }

    private static List<String> dump(StorageEngine engine) {
        return render(engine.scan(new byte[0], null, Integer.MAX_VALUE));
    }

    private static List<String> render(List<StorageEngine.Entry> entries) {
        List<String> out = new ArrayList<>(entries.size());
        for (StorageEngine.Entry e : entries) {
            out.add(HEX.formatHex(e.key()) + "=" + HEX.formatHex(e.value()));
        }
        return out;
    }

    private static String describe(WriteBatch batch) {
        StringBuilder s = new StringBuilder("[");
        for (WriteBatch.Mutation m : batch.mutations()) {
            switch (m) {
                case WriteBatch.Put p -> s.append(" put ").append(HEX.formatHex(p.key())).append('=').append(p.value().length).append('B');
                case WriteBatch.Delete d -> s.append(" del ").append(HEX.formatHex(d.key()));
                case WriteBatch.DeleteRange r -> s.append(" delRange ").append(HEX.formatHex(r.fromInclusive())).append("..").append(HEX.formatHex(r.toExclusive()));
            }
        }
        return s.append(" ]").toString();
    }

    private static void delete(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
