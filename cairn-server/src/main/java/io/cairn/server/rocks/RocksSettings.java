package io.cairn.server.rocks;

/**
 * How the RocksDB engine is tuned. Every figure is configurable (see docs/operations.md).
 *
 * @param blockCacheBytes            shared LRU block cache for data, index and filter blocks
 * @param writeBufferBytes           one memtable's size before it is flushed
 * @param maxWriteBuffers            memtables kept before writes stall
 * @param compactionRateBytesPerSec  rate limit for flush and compaction I/O; 0 disables it
 * @param maxBackgroundJobs          threads for flushes and compactions
 * @param asyncSyncIntervalMillis    how often the WAL is fsynced in async durability mode
 */
public record RocksSettings(long blockCacheBytes, long writeBufferBytes, int maxWriteBuffers,
                            long compactionRateBytesPerSec, int maxBackgroundJobs, long asyncSyncIntervalMillis) {
    public static final RocksSettings DEFAULTS = new RocksSettings(256L << 20, 64L << 20, 4, 64L << 20, 2, 200);

    public RocksSettings {
        if (blockCacheBytes < (1 << 20)) {
            throw new IllegalArgumentException("block cache must be at least 1 MiB");
        }
        if (writeBufferBytes < (1 << 20)) {
            throw new IllegalArgumentException("write buffer must be at least 1 MiB");
        }
        if (maxWriteBuffers < 2) {
            throw new IllegalArgumentException("maxWriteBuffers must be at least 2");
        }
        if (compactionRateBytesPerSec < 0) {
            throw new IllegalArgumentException("compaction rate must not be negative");
        }
        if (maxBackgroundJobs < 1) {
            throw new IllegalArgumentException("maxBackgroundJobs must be at least 1");
        }
        if (asyncSyncIntervalMillis < 1) {
            throw new IllegalArgumentException("async sync interval must be at least 1 ms");
        }
    }
}
