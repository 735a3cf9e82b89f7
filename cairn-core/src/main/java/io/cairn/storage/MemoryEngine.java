package io.cairn.storage;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The in-memory reference engine: a sorted map under one lock, obviously correct, used as the
 * oracle the RocksDB engine is checked against and as the simulator's disk.
 *
 * <p>Durability here is a model: the simulator can ask what a crash would keep via
 * {@link #crash()}, which drops every {@link Durability#ASYNC} write not yet followed by a
 * {@link #syncWal()} or a {@link Durability#SYNC} write.
 */
public final class MemoryEngine implements StorageEngine {
    private final NavigableMap<byte[], byte[]> durable = new TreeMap<>(Arrays::compareUnsigned);
    private final NavigableMap<byte[], byte[]> visible = new TreeMap<>(Arrays::compareUnsigned);
    private final List<WriteBatch> unsynced = new ArrayList<>();
    private boolean closed;

    @Override
    public synchronized byte[] get(byte[] key) {
        ensureOpen();
        byte[] value = visible.get(key);
        return value == null ? null : value.clone();
    }

    @Override
    public synchronized void write(WriteBatch batch, Durability durability) {
        ensureOpen();
        String invalid = batch.invalidity();
        if (invalid != null) {
            throw new StorageException("invalid batch: " + invalid);
        }
        apply(visible, batch);
        unsynced.add(batch);
        if (durability == Durability.SYNC) {
            syncWal();
        }
    }

    /** Makes every write so far durable, as a periodic WAL fsync would. */
    @Override
    public synchronized void syncWal() {
        // The WAL is ordered: a sync persists every earlier batch too.
        for (WriteBatch b : unsynced) {
            apply(durable, b);
        }
        unsynced.clear();
    }

    /** Simulates a crash and restart: unsynced writes are lost. */
    public synchronized void crash() {
        visible.clear();
        visible.putAll(durable);
        unsynced.clear();
        closed = false;
    }

    @Override
    public synchronized List<Entry> scan(byte[] fromInclusive, byte[] toExclusive, int limit, long maxBytes) {
        ensureOpen();
        if (toExclusive != null && Arrays.compareUnsigned(fromInclusive, toExclusive) >= 0) {
            return List.of();
        }
        NavigableMap<byte[], byte[]> range = toExclusive == null
                ? visible.tailMap(fromInclusive, true)
                : visible.subMap(fromInclusive, true, toExclusive, false);
        List<Entry> out = new ArrayList<>(Math.min(limit, 1024));
        long bytes = 0;
        for (Map.Entry<byte[], byte[]> e : range.entrySet()) {
            if (out.size() >= limit || bytes >= maxBytes) {
                break;
            }
            out.add(new Entry(e.getKey().clone(), e.getValue().clone()));
            bytes += e.getKey().length + e.getValue().length;
        }
        return out;
    }

    public synchronized int size() {
        return visible.size();
    }

    @Override
    public synchronized void close() {
        closed = true;
    }

    private void ensureOpen() {
        if (closed) {
            throw new StorageException("engine is closed");
        }
    }

    private static void apply(NavigableMap<byte[], byte[]> map, WriteBatch batch) {
        for (WriteBatch.Mutation m : batch.mutations()) {
            switch (m) {
                case WriteBatch.Put p -> map.put(p.key().clone(), p.value().clone());
                case WriteBatch.Delete d -> map.remove(d.key());
                case WriteBatch.DeleteRange r -> map.subMap(r.fromInclusive(), true, r.toExclusive(), false).clear();
            }
        }
    }
}
