package io.cairn.storage;

import java.util.List;

/**
 * The port to a node's local storage: point reads, atomic write batches, bounded range scans.
 *
 * <p>Keys are compared as unsigned bytes, lexicographically. Implementations must make a batch
 * atomic (all or nothing, also across a crash) and, for {@link Durability#SYNC}, durable before
 * {@link #write} returns. They are safe for concurrent use, writers included (RocksDB
 * serialises and group-commits concurrent writes; the memory engine locks). Atomicity of
 * read-check-write sequences is not the engine's job: {@code LocalReplica} gets it by applying all
 * record writes from one thread; hints and the version ceiling write their own keyspaces.
 *
 * <p>Failures surface as {@link StorageException}; after a failed durable write the caller must
 * assume nothing about whether the batch persisted.
 */
public interface StorageEngine extends AutoCloseable {
    /** The value stored under {@code key}, or null. */
    byte[] get(byte[] key);

    /** Applies every operation of the batch atomically. */
    void write(WriteBatch batch, Durability durability);

    /**
     * Makes every write so far durable (one WAL fsync): what lets many {@link Durability#ASYNC}
     * writes share one sync. The default writes an empty batch synced, which engines with an
     * ordered log turn into exactly that.
     */
    default void syncWal() {
        write(new WriteBatch(), Durability.SYNC);
    }

    /**
     * Up to {@code limit} entries with {@code fromInclusive <= key < toExclusive}, in key order.
     * A null {@code toExclusive} means no upper bound.
     */
    default List<Entry> scan(byte[] fromInclusive, byte[] toExclusive, int limit) {
        return scan(fromInclusive, toExclusive, limit, Long.MAX_VALUE);
    }

    /**
     * As {@link #scan(byte[], byte[], int)}, but also stops once the entries taken hold
     * {@code maxBytes} of keys and values: the entry that reaches the bound is the last one (so a
     * scan that matches anything returns at least one entry). What bounds a scan's memory when
     * values can be large; the caller continues after the last key.
     */
    List<Entry> scan(byte[] fromInclusive, byte[] toExclusive, int limit, long maxBytes);

    @Override
    void close();

    /** One key and its value as returned by a scan. */
    record Entry(byte[] key, byte[] value) {}
}
