package io.cairn.server.rocks;

import io.cairn.storage.Durability;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.WriteBatch;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A storage engine whose every operation can be made to take longer: a slow disk, injected for
 * tests through {@code POST /admin/faults?diskDelay=...} on nodes with
 * {@code cluster.faultInjection} on. With no delay set it only forwards.
 */
public final class DelayableEngine implements StorageEngine {
    private final StorageEngine inner;
    private volatile long delayNanos;

    public DelayableEngine(StorageEngine inner) {
        this.inner = inner;
    }

    /** Every later read, write and scan first waits {@code millis} (0 turns the delay off). */
    public void setDelayMillis(long millis) {
        if (millis < 0) {
            throw new IllegalArgumentException("a disk delay must not be negative");
        }
        delayNanos = TimeUnit.MILLISECONDS.toNanos(millis);
    }

    public long delayMillis() {
        return TimeUnit.NANOSECONDS.toMillis(delayNanos);
    }

    private void stall() {
        long nanos = delayNanos;
        long until = System.nanoTime() + nanos;
        while (nanos > 0) {
            LockSupport.parkNanos(nanos);
            nanos = until - System.nanoTime();
        }
    }

    @Override
    public byte[] get(byte[] key) {
        stall();
        return inner.get(key);
    }

    @Override
    public void write(WriteBatch batch, Durability durability) {
        stall();
        inner.write(batch, durability);
    }

    @Override
    public void syncWal() {
        stall();
        inner.syncWal();
    }

    @Override
    public List<Entry> scan(byte[] fromInclusive, byte[] toExclusive, int limit, long maxBytes) {
        stall();
        return inner.scan(fromInclusive, toExclusive, limit, maxBytes);
    }

    @Override
    public void close() {
        inner.close();
    }
}
