package io.cairn.server.rocks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.storage.Durability;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.StorageEngineConformance;
import io.cairn.storage.StorageException;
import io.cairn.storage.WriteBatch;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The RocksDB engine: the storage contract, plus what only a real disk can show. */
class RocksEngineTest extends StorageEngineConformance {
    static final RocksSettings SMALL = new RocksSettings(8 << 20, 4 << 20, 2, 0, 1, 50);

    @TempDir
    Path dir;

    @Override
    protected StorageEngine open() {
        return new RocksEngine(dir.resolve("db"), SMALL);
    }

    private StorageEngine reopen() {
        engine.close();
        engine = null;
        engine = new RocksEngine(dir.resolve("db"), SMALL);
        return engine;
    }

    @Test
    void syncWritesSurviveCloseAndReopen() {
        SplittableRandom random = new SplittableRandom(21);
        byte[] big = new byte[1 << 20];
        random.nextBytes(big);
        engine.write(new WriteBatch().put(b("a"), b("1")).put(b("big"), big).put(b("gone"), b("x")), Durability.SYNC);
        engine.write(new WriteBatch().delete(b("gone")).put(b("b"), new byte[0]), Durability.SYNC);
        engine.write(new WriteBatch().put(b("r1"), b("x")).put(b("r2"), b("x")), Durability.SYNC);
        engine.write(new WriteBatch().deleteRange(b("r"), b("s")), Durability.SYNC);

        reopen();

        assertThat(engine.get(b("a"))).isEqualTo(b("1"));
        assertThat(engine.get(b("big"))).isEqualTo(big);
        assertThat(engine.get(b("b"))).isNotNull().isEmpty();
        assertThat(engine.get(b("gone"))).isNull();
        assertThat(keys(engine.scan(new byte[0], null, 10))).containsExactly("a", "b", "big");
    }

    @Test
    void manyWritesSpanningMemtableFlushesSurviveReopen() {
        // Enough data to fill several 4 MiB memtables, so some of it is read back from SST files.
        SplittableRandom random = new SplittableRandom(22);
        byte[] value = new byte[16 * 1024];
        for (int batch = 0; batch < 40; batch++) {
            WriteBatch w = new WriteBatch();
            for (int i = 0; i < 32; i++) {
                random.nextBytes(value);
                w.put(b(String.format("key%05d", batch * 32 + i)), value.clone());
            }
            engine.write(w, batch % 2 == 0 ? Durability.SYNC : Durability.ASYNC);
        }
        byte[] last = engine.get(b("key01279"));

        reopen();

        assertThat(engine.scan(b("key"), null, 10_000)).hasSize(40 * 32);
        assertThat(engine.get(b("key01279"))).isEqualTo(last);
    }

    @Test
    void asyncWritesSurviveAnOrderlyClose() {
        engine.write(new WriteBatch().put(b("async"), b("v")), Durability.ASYNC);
        reopen();
        assertThat(engine.get(b("async"))).isEqualTo(b("v"));
    }

    @Test
    void aSecondEngineOnTheSameDirectoryIsRefused() {
        assertThatThrownBy(() -> new RocksEngine(dir.resolve("db"), SMALL)).isInstanceOf(StorageException.class);
        // The first engine is unaffected.
        put("still", "works");
        assertThat(engine.get(b("still"))).isEqualTo(b("works"));
    }

    @Test
    void createsMissingParentDirectories() {
        Path nested = dir.resolve("x/y/z");
        try (RocksEngine other = new RocksEngine(nested, SMALL)) {
            other.write(new WriteBatch().put(b("k"), b("v")), Durability.SYNC);
            assertThat(other.get(b("k"))).isEqualTo(b("v"));
            assertThat(other.directory()).isEqualTo(nested);
            assertThat(other.failed()).isFalse();
        }
    }

    @Test
    void aRejectedInvalidBatchDoesNotStopLaterWrites() {
        // An inverted range is a caller error (RocksDB: InvalidArgument), not an I/O failure:
        // nothing is unknown about the WAL, so the engine must not refuse writes until restart.
        assertThatThrownBy(() -> engine.write(new WriteBatch().deleteRange(b("z"), b("a")), Durability.SYNC))
                .isInstanceOf(StorageException.class);

        assertThat(((RocksEngine) engine).failed()).isFalse();
        put("after", "ok");
        assertThat(engine.get(b("after"))).isEqualTo(b("ok"));
    }
}
