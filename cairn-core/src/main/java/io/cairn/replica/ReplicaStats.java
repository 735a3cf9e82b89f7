package io.cairn.replica;

import io.cairn.antientropy.TreeKeeper;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Counters a {@link LocalReplica} keeps about itself; the server exports them as metrics. */
public final class ReplicaStats {
    final LongAdder corruptRecords = new LongAdder();
    final LongAdder writeGroups = new LongAdder();
    final LongAdder writeRequests = new LongAdder();
    final LongAdder idempotentReplays = new LongAdder();
    final LongAdder expiredRecordsPurged = new LongAdder();
    final LongAdder tombstonesPurged = new LongAdder();
    final LongAdder idempotencyRecordsPurged = new LongAdder();
    final LongAdder staleExpiryEntries = new LongAdder();
    // Invariant: equals the number of idempotency records on disk (minus those already expired
    // but not yet swept, which are counted until the sweeper removes them).
    final AtomicLong idempotencyRecords = new AtomicLong();
    final AtomicLong sweepBacklog = new AtomicLong();
    final LongAdder purgesHeld = new LongAdder();
    final LongAdder recordsDropped = new LongAdder();
    final LongAdder corruptFound = new LongAdder();
    final LongAdder corruptRepaired = new LongAdder();
    final LongAdder scrubbedRecords = new LongAdder();
    final LongAdder scrubbedBytes = new LongAdder();
    final LongAdder scrubPasses = new LongAdder();
    // (namespace id << 16 | partition) → {found, repaired}; only partitions that had a corrupt record.
    private final Map<Long, long[]> corruptByPartition = new ConcurrentHashMap<>();

    void corruptFoundIn(int namespaceId, int partition) {
        corruptFound.increment();
        corruptByPartition.compute(TreeKeeper.slotKey(namespaceId, partition), (k, v) -> {
            long[] c = v == null ? new long[2] : v;
            c[0]++;
            return c;
        });
    }

    void corruptRepairedIn(int namespaceId, int partition) {
        corruptRepaired.increment();
        corruptByPartition.compute(TreeKeeper.slotKey(namespaceId, partition), (k, v) -> {
            long[] c = v == null ? new long[2] : v;
            c[1]++;
            return c;
        });
    }

    /** Corrupt records found and repaired in one partition of a namespace: {found, repaired}. */
    public long[] corruptIn(int namespaceId, int partition) {
        long[] c = corruptByPartition.get(TreeKeeper.slotKey(namespaceId, partition));
        return c == null ? new long[2] : c.clone();
    }

    public long corruptRecords() { return corruptRecords.sum(); }
    public long writeGroups() { return writeGroups.sum(); }
    public long writeRequests() { return writeRequests.sum(); }
    public long idempotentReplays() { return idempotentReplays.sum(); }
    public long expiredRecordsPurged() { return expiredRecordsPurged.sum(); }
    public long tombstonesPurged() { return tombstonesPurged.sum(); }
    public long idempotencyRecordsPurged() { return idempotencyRecordsPurged.sum(); }
    public long staleExpiryEntries() { return staleExpiryEntries.sum(); }
    public long idempotencyRecords() { return idempotencyRecords.get(); }
    /** Expiry index entries that were due at the last sweep and not yet processed (capped). */
    public long sweepBacklog() { return sweepBacklog.get(); }

    /** Purges the safe purge rule held back because not every replica was known to hold the record yet. */
    public long purgesHeld() { return purgesHeld.sum(); }
    /** Records deleted because their partition moved away from this replica. */
    public long recordsDropped() { return recordsDropped.sum(); }
    /** Corrupt records the scrub found (each distinct corrupt copy once). */
    public long corruptFound() { return corruptFound.sum(); }
    /** Corrupt records replaced by a healthy copy from another replica. */
    public long corruptRepaired() { return corruptRepaired.sum(); }
    public long scrubbedRecords() { return scrubbedRecords.sum(); }
    public long scrubbedBytes() { return scrubbedBytes.sum(); }
    /** Completed scrub passes over every record. */
    public long scrubPasses() { return scrubPasses.sum(); }

    /** Counts a corrupt record found outside the replica (a front end reading through it). */
    public void countCorruption() {
        corruptRecords.increment();
    }
}
