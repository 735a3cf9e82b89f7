package io.cairn.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.clock.HybridClock;
import io.cairn.clock.ManualClock;
import io.cairn.storage.Durability;
import io.cairn.storage.MemoryEngine;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.WriteBatch;
import io.cairn.version.Version;
import java.util.List;
import org.junit.jupiter.api.Test;

class VersionCeilingTest {
    private static final long T = 1_700_000_000_000L;

    @Test
    void aRestartedNodeIssuesVersionsAboveEveryVersionItIssuedBeforeEvenWithItsClockSetBack() {
        MemoryEngine engine = new MemoryEngine();
        ManualClock wall = new ManualClock(T);
        VersionCeiling before = new VersionCeiling(engine, new HybridClock(wall, 4));
        Version last = null;
        for (int i = 0; i < 50; i++) {
            wall.advance(100);
            last = before.next();
        }

        engine.crash();
        wall.set(T - 60_000);
        VersionCeiling after = new VersionCeiling(engine, new HybridClock(wall, 4));

        assertThat(after.next()).isGreaterThan(last);
    }

    @Test
    void theCeilingIsWrittenOncePerLeaseNotPerVersion() {
        CountingEngine engine = new CountingEngine();
        ManualClock wall = new ManualClock(T);
        VersionCeiling ceiling = new VersionCeiling(engine, new HybridClock(wall, 1));
        for (int i = 0; i < 1_000; i++) {
            wall.advance(10);
            Version v = ceiling.next();
            assertThat(v.timestamp()).isLessThan(ceiling.ceiling());
        }
        // 10 s of versions, a 1 s lease: about ten ceiling writes, all synced.
        assertThat(engine.syncWrites).isBetween(9, 11);
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
        public List<Entry> scan(byte[] fromInclusive, byte[] toExclusive, int limit) {
            return delegate.scan(fromInclusive, toExclusive, limit);
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
