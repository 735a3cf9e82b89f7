package io.cairn.server.rocks;

import io.cairn.storage.Durability;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.StorageException;
import io.cairn.storage.WriteBatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.CompactionStyle;
import org.rocksdb.CompressionType;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.RateLimiter;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.Statistics;
import org.rocksdb.Status;
import org.rocksdb.TickerType;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default storage engine: RocksDB, whose WAL is Cairn's write-ahead log.
 *
 * <p>Durability: {@link Durability#SYNC} writes set {@code sync=true}, so RocksDB fsyncs the WAL
 * before returning. Cairn's write path already hands it one batch per group of requests, so one
 * fsync covers many writes. {@link Durability#ASYNC} writes are not synced; a background task
 * fsyncs the WAL every {@code asyncSyncIntervalMillis}.
 *
 * <p>Tuning: level compaction with dynamic level sizes, LZ4 (ZSTD at the bottom level), a shared
 * LRU block cache that also holds index and filter blocks, bloom filters for point reads, and a
 * rate limiter on flush and compaction I/O so background work cannot starve foreground p99.
 *
 * <p>A failed write marks the engine failed: after an fsync error nothing is known about the WAL,
 * so every later write is refused until the node restarts (and RocksDB recovers the WAL).
 */
public final class RocksEngine implements StorageEngine {
    private static final Logger log = LoggerFactory.getLogger(RocksEngine.class);

    static {
        RocksDB.loadLibrary();
    }

    private final Path directory;
    private final RocksDB db;
    private final Options options;
    private final LRUCache cache;
    private final RateLimiter rateLimiter;
    private final Statistics statistics;
    private final WriteOptions syncWrites;
    private final WriteOptions asyncWrites;
    private final ScheduledExecutorService walSyncer;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    public RocksEngine(Path directory, RocksSettings settings) {
        this.directory = directory;
        try {
            Files.createDirectories(directory);
        } catch (java.io.IOException e) {
            throw new StorageException("cannot create data directory " + directory, e);
        }
        cache = new LRUCache(settings.blockCacheBytes());
        statistics = new Statistics();
        rateLimiter = settings.compactionRateBytesPerSec() > 0 ? new RateLimiter(settings.compactionRateBytesPerSec()) : null;
        BlockBasedTableConfig table = new BlockBasedTableConfig()
                .setBlockCache(cache)
                .setFilterPolicy(new BloomFilter(10, false))
                .setCacheIndexAndFilterBlocks(true)
                .setPinL0FilterAndIndexBlocksInCache(true)
                .setBlockSize(16 * 1024);
        options = new Options()
                .setCreateIfMissing(true)
                .setCompactionStyle(CompactionStyle.LEVEL)
                .setLevelCompactionDynamicLevelBytes(true)
                .setCompressionType(CompressionType.LZ4_COMPRESSION)
                .setBottommostCompressionType(CompressionType.ZSTD_COMPRESSION)
                .setWriteBufferSize(settings.writeBufferBytes())
                .setMaxWriteBufferNumber(settings.maxWriteBuffers())
                .setMaxBackgroundJobs(settings.maxBackgroundJobs())
                .setBytesPerSync(1 << 20)
                .setTableFormatConfig(table)
                .setStatistics(statistics)
                .setParanoidChecks(true);
        if (rateLimiter != null) {
            options.setRateLimiter(rateLimiter);
        }
        syncWrites = new WriteOptions().setSync(true);
        asyncWrites = new WriteOptions().setSync(false);
        try {
            db = RocksDB.open(options, directory.toString());
        } catch (RocksDBException e) {
            close(false);
            String why = String.valueOf(e.getMessage());
            if (why.contains("LOCK") && (why.contains("temporarily unavailable") || why.contains("lock hold") || why.contains("No locks available"))) {
                // Another process (most likely another Cairn node) holds RocksDB's lock on it.
                throw new StorageException("the data directory " + directory.getParent() + " is in use by another process (another Cairn node"
                        + " running on it?); stop that process or start this one with another --data-dir", e);
            }
            throw new StorageException("cannot open RocksDB in " + directory + ": " + why, e);
        }
        walSyncer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cairn-wal-sync");
            t.setDaemon(true);
            return t;
        });
        walSyncer.scheduleWithFixedDelay(this::syncWalQuietly, settings.asyncSyncIntervalMillis(), settings.asyncSyncIntervalMillis(), TimeUnit.MILLISECONDS);
    }

    public Path directory() {
        return directory;
    }

    @Override
    public byte[] get(byte[] key) {
        try {
            return db.get(key);
        } catch (RocksDBException e) {
            throw new StorageException("read failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void write(WriteBatch batch, Durability durability) {
        Throwable failed = failure.get();
        if (failed != null) {
            throw new StorageException("storage failed earlier and refuses writes until restart: " + failed.getMessage());
        }
        String invalid = batch.invalidity();
        if (invalid != null) {
            throw new StorageException("invalid batch: " + invalid);
        }
        try (org.rocksdb.WriteBatch rb = new org.rocksdb.WriteBatch()) {
            for (WriteBatch.Mutation m : batch.mutations()) {
                switch (m) {
                    case WriteBatch.Put p -> rb.put(p.key(), p.value());
                    case WriteBatch.Delete d -> rb.delete(d.key());
                    case WriteBatch.DeleteRange r -> rb.deleteRange(r.fromInclusive(), r.toExclusive());
                }
            }
            db.write(durability == Durability.SYNC ? syncWrites : asyncWrites, rb);
        } catch (RocksDBException e) {
            if (isCallerError(e)) {
                // Nothing is unknown about the WAL after a rejected argument: keep accepting writes.
                throw new StorageException("write rejected: " + e.getMessage(), e);
            }
            failure.compareAndSet(null, e);
            log.atError().addKeyValue("directory", directory).setCause(e).log("storage write failed; refusing writes until restart");
            throw new StorageException("write failed: " + e.getMessage(), e);
        }
    }

    /** One WAL fsync now, covering every write before it; a failure marks the engine failed, as a failed synced write does. */
    @Override
    public void syncWal() {
        Throwable failed = failure.get();
        if (failed != null) {
            throw new StorageException("storage failed earlier and refuses writes until restart: " + failed.getMessage());
        }
        try {
            db.flushWal(true);
        } catch (RocksDBException e) {
            failure.compareAndSet(null, e);
            log.atError().addKeyValue("directory", directory).setCause(e).log("WAL fsync failed; refusing writes until restart");
            throw new StorageException("WAL fsync failed: " + e.getMessage(), e);
        }
    }

    @Override
    public List<Entry> scan(byte[] fromInclusive, byte[] toExclusive, int limit, long maxBytes) {
        List<Entry> out = new ArrayList<>(Math.min(limit, 1024));
        try (Slice upper = toExclusive == null ? null : new Slice(toExclusive);
             ReadOptions read = new ReadOptions()) {
            if (upper != null) {
                read.setIterateUpperBound(upper);
            }
            try (RocksIterator it = db.newIterator(read)) {
                long bytes = 0;
                for (it.seek(fromInclusive); it.isValid() && out.size() < limit && bytes < maxBytes; it.next()) {
                    Entry e = new Entry(it.key(), it.value());
                    out.add(e);
                    bytes += e.key().length + e.value().length;
                }
                it.status();
            }
        } catch (RocksDBException e) {
            throw new StorageException("scan failed: " + e.getMessage(), e);
        }
        return out;
    }

    private static boolean isCallerError(RocksDBException e) {
        Status status = e.getStatus();
        return status != null && (status.getCode() == Status.Code.InvalidArgument || status.getCode() == Status.Code.NotSupported);
    }

    /** Whether a write failed (the node must stop accepting writes). */
    public boolean failed() {
        return failure.get() != null;
    }

    /** Whether RocksDB currently stops writes (too many memtables or L0 files, or pending compaction). */
    public boolean writesStopped() {
        return property("rocksdb.is-write-stopped") > 0;
    }

    /** Whether RocksDB throttles writes now (a delayed write rate, or writes stopped): the disk is behind. */
    public boolean writesThrottled() {
        return property("rocksdb.actual-delayed-write-rate") > 0 || writesStopped();
    }

    /** A RocksDB integer property, or -1 when unavailable. */
    public long property(String name) {
        try {
            return db.getLongProperty(name);
        } catch (RocksDBException e) {
            return -1;
        }
    }

    public long stallMicros() {
        return statistics.getTickerCount(TickerType.STALL_MICROS);
    }

    public long blockCacheUsageBytes() {
        return cache.getUsage();
    }

    private void syncWalQuietly() {
        if (failure.get() != null) {
            // Failed already (logged then, and every write refused until restart): another fsync
            // would only fail again, and log it five times a second.
            return;
        }
        try {
            db.flushWal(true);
        } catch (RocksDBException e) {
            failure.compareAndSet(null, e);
            log.atError().setCause(e).log("periodic WAL fsync failed; refusing writes until restart");
        } catch (RuntimeException | Error e) {
            // Not an I/O error RocksDB reports but a bug (an invariant violation, a closed
            // handle): whether the WAL is synced is unknown, so writes stop as after a failed
            // fsync (the node leaves /ready), and the exception ends the periodic task loudly
            // rather than warning on every later run.
            failure.compareAndSet(null, e);
            log.atError().setCause(e).log("periodic WAL fsync threw; refusing writes until restart");
            throw e;
        }
    }

    @Override
    public void close() {
        close(true);
    }

    private void close(boolean opened) {
        if (opened) {
            walSyncer.shutdownNow();
            try {
                walSyncer.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                db.flushWal(true);
            } catch (RocksDBException e) {
                log.atWarn().setCause(e).log("final WAL fsync failed");
            }
            db.close();
        }
        options.close();
        if (rateLimiter != null) {
            rateLimiter.close();
        }
        statistics.close();
        cache.close();
        if (syncWrites != null) {
            syncWrites.close();
        }
        if (asyncWrites != null) {
            asyncWrites.close();
        }
    }
}
