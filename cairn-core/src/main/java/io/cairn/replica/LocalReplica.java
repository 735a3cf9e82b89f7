package io.cairn.replica;

import io.cairn.clock.HybridClock;
import io.cairn.error.ErrorCode;
import io.cairn.request.IdempotencyTag;
import io.cairn.request.StoredOutcome;
import io.cairn.namespace.Namespace;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.cairn.record.RecordCodec;
import io.cairn.request.Condition;
import io.cairn.request.Limits;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import io.cairn.storage.Durability;
import io.cairn.storage.Keyspace;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.WriteBatch;
import io.cairn.clock.Version;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A node's local replica: the single place where records, expiry index entries and idempotency
 * outcomes are read and written.
 *
 * <p><b>Model.</b> Writes arrive in groups ({@link #apply}); every request of a group is evaluated
 * in order against the stored state plus the earlier requests of the same group, and the whole
 * group becomes one atomic storage batch. The caller (the write path's single applier) decides how
 * large a group is: that is group commit, one WAL fsync for many writes. Because evaluation and
 * the batch happen on one thread, a condition (If-Match, If-None-Match) and the write it guards
 * are atomic: there is no read-then-write race between requests on the same key.
 *
 * <p><b>Idempotency.</b> A request with an idempotency key stores its outcome in the same batch as
 * its writes, so after a crash either both exist or neither does. A retry finds the stored outcome
 * and replays it; a reused key with another fingerprint is refused; a retry inside the same group
 * (the first attempt is not acknowledged yet) is refused as in flight.
 *
 * <p><b>Expiry.</b> Every record with an expiry, and every tombstone, gets an index entry keyed by
 * the time it may be purged (expiry or deletion time, plus the purge grace). Entries are never
 * updated in place: an overwrite leaves the old entry behind, and {@link #sweep} recognises it as
 * stale by comparing its due time with the record's. Sweeping therefore costs O(due entries).
 *
 * <p><b>Concurrency.</b> {@link #apply} and {@link #sweep} must be called by one thread at a time;
 * {@link #read} may run on any thread concurrently with them.
 *
 * <p><b>Failures.</b> A {@link io.cairn.storage.StorageException} from the engine propagates; the
 * group's outcome is then unknown. A corrupt record is counted and reported, never returned.
 */
public final class LocalReplica {
    private static final byte[] EMPTY = new byte[0];
    private static final String META_HLC = "hlc";
    private static final String META_NODE = "node";
    private static final int COUNT_CHUNK = 4096;
    // Stored outcomes can hold values (a batch's gets): a recovery scan holds at most this much at once.
    private static final long COUNT_CHUNK_BYTES = 4L << 20;

    private final StorageEngine engine;
    private final HybridClock clock;
    private final Durability durability;
    private final long purgeGraceMillis;
    private final Limits limits;
    private final ReplicaStats stats = new ReplicaStats();

    public LocalReplica(StorageEngine engine, HybridClock clock, Durability durability, long purgeGraceMillis, Limits limits) {
        if (purgeGraceMillis < 0) {
            throw new IllegalArgumentException("purge grace must not be negative");
        }
        this.engine = engine;
        this.clock = clock;
        this.durability = durability;
        this.purgeGraceMillis = purgeGraceMillis;
        this.limits = limits;
        recover();
    }

    public ReplicaStats stats() {
        return stats;
    }

    public HybridClock clock() {
        return clock;
    }

    /**
     * Checks the data belongs to this node, moves the clock past every version issued before the
     * last shutdown or crash, and counts the idempotency records held.
     */
    private void recover() {
        byte[] node = engine.get(Keyspace.meta(META_NODE));
        if (node == null) {
            WriteBatch init = new WriteBatch().put(Keyspace.meta(META_NODE), ByteBuffer.allocate(4).putInt(clock.nodeId()).array());
            engine.write(init, Durability.SYNC);
        } else {
            int stored = ByteBuffer.wrap(node).getInt();
            if (stored != clock.nodeId()) {
                throw new IllegalStateException("the data directory belongs to node " + stored + ", not node " + clock.nodeId());
            }
        }
        byte[] hlc = engine.get(Keyspace.meta(META_HLC));
        if (hlc != null) {
            clock.observe(ByteBuffer.wrap(hlc).getLong());
        }
        long count = 0;
        byte[] from = Keyspace.idempotencyStart();
        while (true) {
            List<StorageEngine.Entry> chunk = engine.scan(from, Keyspace.idempotencyEnd(), COUNT_CHUNK, COUNT_CHUNK_BYTES);
            if (chunk.isEmpty()) {
                break;
            }
            count += chunk.size();
            from = successor(chunk.get(chunk.size() - 1).key());
        }
        stats.idempotencyRecords.set(count);
    }

    /** The live record for a key, or not found; never a tombstone or an expired record. */
    public OpResult read(Namespace ns, byte[] key) {
        byte[] storageKey = Keyspace.data(ns.id(), ns.partitionOf(key), key);
        try {
            Record r = decode(key, engine.get(storageKey));
            return r != null && r.isLiveAt(clock.physicalMillis()) ? new OpResult.Found(r) : new OpResult.NotFound();
        } catch (CorruptRecordException e) {
            stats.corruptRecords.increment();
            return corrupt(key, e);
        }
    }

    /**
     * The stored record for a key exactly as held — tombstones and expired records included —
     * or null; for replica reads, where versions of deletions matter.
     *
     * @throws CorruptRecordException (counted) when the stored record fails its checksum
     */
    public Record readStored(Namespace ns, byte[] key) {
        byte[] storageKey = Keyspace.data(ns.id(), ns.partitionOf(key), key);
        try {
            return decode(key, engine.get(storageKey));
        } catch (CorruptRecordException e) {
            stats.corruptRecords.increment();
            throw e;
        }
    }

    /** Applies a group of write requests as one atomic, durable batch; one outcome per request. */
    public List<WriteOutcome> apply(List<WriteRequest> group) {
        Group g = new Group();
        List<WriteOutcome> outcomes = new ArrayList<>(group.size());
        for (WriteRequest request : group) {
            outcomes.add(g.apply(request));
        }
        if (!g.batch.isEmpty()) {
            g.batch.put(Keyspace.meta(META_HLC), ByteBuffer.allocate(8).putLong(clock.lastTimestamp()).array());
            engine.write(g.batch, durability);
            stats.idempotencyRecords.addAndGet(g.newIdempotencyRecords);
        }
        stats.writeGroups.increment();
        stats.writeRequests.add(group.size());
        return outcomes;
    }

    /** The state of one group under construction: its batch and what it has written so far. */
    private final class Group {
        final WriteBatch batch = new WriteBatch();
        final Map<Key, Record> pending = new HashMap<>();
        final Map<Key, byte[]> pendingIdempotency = new HashMap<>();
        final long now = clock.physicalMillis();
        long newIdempotencyRecords;

        WriteOutcome apply(WriteRequest request) {
            Namespace ns = request.namespace();
            IdempotencyTag tag = request.idempotency();
            byte[] idemKey = null;
            boolean replacesExpired = false;
            if (tag != null) {
                idemKey = Keyspace.idempotency(ns.id(), tag.key());
                byte[] inGroup = pendingIdempotency.get(new Key(idemKey));
                if (inGroup != null) {
                    return tag.sameRequest(inGroup)
                            ? new WriteOutcome.Failed(ErrorCode.IDEMPOTENCY_IN_FLIGHT, "a request with this idempotency key is still in progress")
                            : reused();
                }
                byte[] raw = engine.get(idemKey);
                if (raw != null) {
                    StoredOutcome stored;
                    try {
                        stored = StoredOutcome.decode(idemKey, raw);
                    } catch (CorruptRecordException e) {
                        stats.corruptRecords.increment();
                        return new WriteOutcome.Failed(ErrorCode.CORRUPT_RECORD, "the stored outcome for this idempotency key is corrupt: " + e.getMessage());
                    }
                    if (stored.expiresAtMillis() > now) {
                        if (!tag.sameRequest(stored.fingerprint())) {
                            return reused();
                        }
                        stats.idempotentReplays.increment();
                        return WriteOutcome.Executed.of(stored.results(), true, true);
                    }
                    replacesExpired = true;
                }
            }
            List<OpResult> results = new ArrayList<>(request.ops().size());
            for (Op op : request.ops()) {
                results.add(execute(ns, op));
            }
            if (tag != null) {
                pendingIdempotency.put(new Key(idemKey), tag.fingerprint());
                long expires = now + tag.retentionMillis();
                batch.put(idemKey, new StoredOutcome(tag.fingerprint(), expires, results).encode(idemKey));
                batch.put(Keyspace.expiry(expires, idemKey), EMPTY);
                if (!replacesExpired) {
                    newIdempotencyRecords++;
                }
            }
            return WriteOutcome.Executed.of(results, false, tag != null);
        }

        private WriteOutcome reused() {
            return new WriteOutcome.Failed(ErrorCode.IDEMPOTENCY_KEY_REUSED, "this idempotency key was used for a different request");
        }

        OpResult execute(Namespace ns, Op op) {
            byte[] key = op.key();
            if (key.length == 0 || key.length > limits.maxKeyBytes()) {
                return new OpResult.Failed(key.length == 0 ? ErrorCode.INVALID_KEY : ErrorCode.KEY_TOO_LONG,
                        key.length == 0 ? "the key is empty" : "the key is " + key.length + " bytes; the limit is " + limits.maxKeyBytes());
            }
            byte[] storageKey = Keyspace.data(ns.id(), ns.partitionOf(key), key);
            if (op instanceof Op.Apply a) {
                return applyReplica(key, storageKey, a.record());
            }
            Condition condition = switch (op) {
                case Op.Put p -> p.condition();
                case Op.Delete d -> d.condition();
                case Op.Get g -> Condition.NONE;
                case Op.Apply a -> throw new IllegalStateException("handled above");
            };
            Record current = null;
            if (op instanceof Op.Get || !condition.isNone()) {
                try {
                    current = current(key, storageKey);
                } catch (CorruptRecordException e) {
                    stats.corruptRecords.increment();
                    return corrupt(key, e);
                }
                if (!condition.holds(current, now)) {
                    return new OpResult.PreconditionFailed(current != null && current.isLiveAt(now) ? current.version() : null);
                }
            }
            return switch (op) {
                case Op.Get g -> current != null && current.isLiveAt(now) ? new OpResult.Found(current) : new OpResult.NotFound();
                case Op.Put p -> put(ns, key, storageKey, p);
                case Op.Delete d -> delete(key, storageKey);
                case Op.Apply a -> throw new IllegalStateException("handled above");
            };
        }

        /**
         * Last-writer-wins: store a versioned record only if it is newer than the stored one. A
         * record stamped more than the max clock offset ahead of this node's clock is refused
         * (counted by the clock) and leaves the clock where it was: see {@link HybridClock}.
         */
        private OpResult applyReplica(byte[] key, byte[] storageKey, Record record) {
            long timestamp = record.version().timestamp();
            if (!clock.observePeer(timestamp)) {
                return new OpResult.Failed(ErrorCode.CLOCK_UNSAFE, "refused: " + clock.describe(timestamp));
            }
            Record current;
            try {
                current = current(key, storageKey);
            } catch (CorruptRecordException e) {
                // The incoming copy repairs the corrupt one.
                stats.corruptRecords.increment();
                current = null;
            }
            if (current != null && !record.version().isNewerThan(current.version())) {
                return new OpResult.Superseded(current.version());
            }
            store(key, storageKey, record);
            if (record.tombstone()) {
                batch.put(Keyspace.expiry(record.version().physicalMillis() + purgeGraceMillis, storageKey), EMPTY);
                return new OpResult.Deleted(record.version());
            }
            if (record.hasExpiry()) {
                batch.put(Keyspace.expiry(purgeAt(record.expiresAtMillis()), storageKey), EMPTY);
            }
            return new OpResult.Written(record.version(), record.expiresAtMillis());
        }

        private OpResult put(Namespace ns, byte[] key, byte[] storageKey, Op.Put p) {
            if (p.value().length > limits.maxValueBytes()) {
                return new OpResult.Failed(ErrorCode.VALUE_TOO_LARGE, "the value is " + p.value().length + " bytes; the limit is " + limits.maxValueBytes());
            }
            Version version = clock.next();
            long ttl = p.ttlMillis() == Op.DEFAULT_TTL ? ns.defaultTtlMillis() : p.ttlMillis();
            long expires = ttl > 0 ? version.physicalMillis() + ttl : Record.NO_EXPIRY;
            Record record = Record.value(version, expires, p.contentType(), p.value());
            store(key, storageKey, record);
            if (expires != Record.NO_EXPIRY) {
                batch.put(Keyspace.expiry(expires + purgeGraceMillis, storageKey), EMPTY);
            }
            return new OpResult.Written(version, expires);
        }

        private OpResult delete(byte[] key, byte[] storageKey) {
            Version version = clock.next();
            store(key, storageKey, Record.tombstone(version));
            batch.put(Keyspace.expiry(version.physicalMillis() + purgeGraceMillis, storageKey), EMPTY);
            return new OpResult.Deleted(version);
        }

        private void store(byte[] key, byte[] storageKey, Record record) {
            batch.put(storageKey, RecordCodec.encode(key, record));
            pending.put(new Key(storageKey), record);
        }

        private Record current(byte[] key, byte[] storageKey) {
            Record inGroup = pending.get(new Key(storageKey));
            return inGroup != null ? inGroup : decode(key, engine.get(storageKey));
        }
    }

    /**
     * Purges up to {@code limit} due expiry index entries: expired records and tombstones past the
     * purge grace, expired idempotency outcomes, and stale entries left by overwrites.
     */
    public SweepResult sweep(int limit, int backlogCountCap) {
        long now = clock.physicalMillis();
        List<StorageEngine.Entry> due = engine.scan(Keyspace.expiryStart(), Keyspace.expiryAfter(now), limit);
        WriteBatch batch = new WriteBatch();
        long records = 0;
        long tombstones = 0;
        long outcomes = 0;
        long stale = 0;
        for (StorageEngine.Entry entry : due) {
            long dueMillis = Keyspace.expiryDueMillis(entry.key());
            byte[] target = Keyspace.expiryTarget(entry.key());
            batch.delete(entry.key());
            byte[] raw = engine.get(target);
            if (raw == null) {
                stale++;
                continue;
            }
            try {
                if (target[0] == Keyspace.DATA) {
                    Record r = RecordCodec.decode(Keyspace.userKeyOf(target), raw);
                    long purgeAt = r.tombstone() ? r.version().physicalMillis() + purgeGraceMillis
                            : r.hasExpiry() ? purgeAt(r.expiresAtMillis()) : -1;
                    if (purgeAt == dueMillis) {
                        batch.delete(target);
                        if (r.tombstone()) {
                            tombstones++;
                        } else {
                            records++;
                        }
                    } else {
                        stale++;
                    }
                } else if (target[0] == Keyspace.IDEMPOTENCY) {
                    StoredOutcome o = StoredOutcome.decode(target, raw);
                    if (o.expiresAtMillis() == dueMillis) {
                        batch.delete(target);
                        outcomes++;
                    } else {
                        stale++;
                    }
                } else {
                    stale++;
                }
            } catch (CorruptRecordException e) {
                // Keep the corrupt record for repair; drop only the index entry so the sweep does
                // not trip over it forever. Reads keep reporting it.
                stats.corruptRecords.increment();
            }
        }
        if (!batch.isEmpty()) {
            // Not synced: a sweep lost in a crash is simply redone.
            engine.write(batch, Durability.ASYNC);
        }
        stats.expiredRecordsPurged.add(records);
        stats.tombstonesPurged.add(tombstones);
        stats.idempotencyRecordsPurged.add(outcomes);
        stats.staleExpiryEntries.add(stale);
        stats.idempotencyRecords.addAndGet(-outcomes);
        boolean more = due.size() == limit;
        long backlog = more ? engine.scan(Keyspace.expiryStart(), Keyspace.expiryAfter(now), backlogCountCap).size() : 0;
        stats.sweepBacklog.set(backlog);
        return new SweepResult(due.size(), records, tombstones, outcomes, stale, more);
    }

    /** When a record expiring at {@code expiresAtMillis} may be purged; saturates (a peer may send any expiry). */
    private long purgeAt(long expiresAtMillis) {
        return expiresAtMillis > Long.MAX_VALUE - purgeGraceMillis ? Long.MAX_VALUE : expiresAtMillis + purgeGraceMillis;
    }

    /** What one sweep pass did. */
    public record SweepResult(int entries, long expiredRecords, long tombstones, long idempotencyRecords, long staleEntries, boolean more) {}

    private static Record decode(byte[] key, byte[] raw) {
        return raw == null ? null : RecordCodec.decode(key, raw);
    }

    private static OpResult corrupt(byte[] key, CorruptRecordException e) {
        return new OpResult.Failed(ErrorCode.CORRUPT_RECORD, "the stored record for this key is corrupt (" + e.getMessage() + "); it needs repair");
    }

    static byte[] successor(byte[] key) {
        byte[] next = Arrays.copyOf(key, key.length + 1);
        return next;
    }

    /** A byte array with value equality, for the group's maps. */
    private record Key(byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(bytes, k.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }
}
