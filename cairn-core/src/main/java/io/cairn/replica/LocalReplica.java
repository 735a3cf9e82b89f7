package io.cairn.replica;

import io.cairn.antientropy.KeyVersion;
import io.cairn.antientropy.PurgeGate;
import io.cairn.antientropy.SegmentKeys;
import io.cairn.antientropy.SegmentTree;
import io.cairn.antientropy.TreeKeeper;
import io.cairn.clock.HybridClock;
import io.cairn.error.ErrorCode;
import io.cairn.request.IdempotencyTag;
import io.cairn.request.StoredOutcome;
import io.cairn.invariant.Invariant;
import io.cairn.namespace.Namespace;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.cairn.record.RecordCodec;
import io.cairn.request.BatchReadBudget;
import io.cairn.request.Condition;
import io.cairn.request.Limits;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import io.cairn.storage.Durability;
import io.cairn.storage.Keyspace;
import io.cairn.storage.StagedEngine;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.WriteBatch;
import io.cairn.clock.Version;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
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
 * stale by comparing the version it names with the record's. Sweeping therefore costs O(due entries).
 * On a cluster a due tombstone or expired record is removed only when the {@link PurgeGate} says
 * every other replica holds it (the safe purge rule); otherwise its entry is moved a recheck
 * interval later.
 *
 * <p><b>Anti-entropy.</b> On a cluster node the replica keeps a segment tree per partition
 * ({@link TreeKeeper}) up to date as groups are applied: every record a group replaces XORs out of
 * its segment and the new one in, after the batch is durable. {@link #scrub} walks every record at
 * a bounded rate, checks its checksum (quarantining and counting a corrupt one) and rebuilds each
 * partition's tree beside the live one. Trees are stored at a clean shutdown
 * ({@link #persistTrees}) and loaded at the next start; after a crash the first scrub pass
 * rebuilds them.
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
    private static final String META_TREES_CLEAN = "aeclean";
    private static final String META_TREE_PREFIX = "aetree/";
    /** An expiry index entry's value: the writing group's stamp, then the version it is for. */
    private static final int EXPIRY_VALUE_BYTES = 8 + 8 + 4;
    private static final int COUNT_CHUNK = 4096;
    // Stored outcomes can hold values (a batch's gets): a recovery scan holds at most this much at once.
    private static final long COUNT_CHUNK_BYTES = 4L << 20;

    private final StorageEngine engine;
    private final HybridClock clock;
    private final Durability durability;
    private final long purgeGraceMillis;
    private final Limits limits;
    private final ReplicaStats stats = new ReplicaStats();
    private final TreeKeeper trees;
    private final PurgeGate gate;
    private final long purgeRecheckMillis;
    // Where the scrub goes on; touched only by the applier thread.
    private byte[] scrubCursor = Keyspace.dataStart();

    /** The size limits this replica enforces. */
    public Limits limits() {
        return limits;
    }

    public LocalReplica(StorageEngine engine, HybridClock clock, Durability durability, long purgeGraceMillis, Limits limits) {
        this(engine, clock, durability, purgeGraceMillis, limits, ReplicaAntiEntropy.NONE);
    }

    public LocalReplica(StorageEngine engine, HybridClock clock, Durability durability, long purgeGraceMillis, Limits limits,
                        ReplicaAntiEntropy antiEntropy) {
        if (purgeGraceMillis < 0) {
            throw new IllegalArgumentException("purge grace must not be negative");
        }
        this.engine = engine;
        this.clock = clock;
        this.durability = durability;
        this.purgeGraceMillis = purgeGraceMillis;
        this.limits = limits;
        this.gate = antiEntropy.gate();
        this.purgeRecheckMillis = antiEntropy.purgeRecheckMillis();
        recover();
        this.trees = antiEntropy.keepTrees() ? loadTrees() : null;
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

    /** How this replica's writes are made durable: its {@code write.durability}. */
    public Durability durability() {
        return durability;
    }

    /** Syncs the WAL: every write made so far, synced or not, survives a crash once this returns. */
    public void syncWal() {
        engine.syncWal();
    }

    /**
     * A view of this replica's engine that holds back its unsynced writes until they are handed to
     * {@link #apply(List, WriteBatch, boolean)} (or written through): storage jobs run between
     * groups write through it, so that a group and its jobs make one engine write.
     */
    public StagedEngine stage() {
        return new StagedEngine(engine);
    }

    /** Applies a group of write requests as one atomic, durable batch; one outcome per request. */
    public List<WriteOutcome> apply(List<WriteRequest> group) {
        return apply(group, new WriteBatch(), false);
    }

    /**
     * As {@link #apply(List)}, with {@code first} (other writes, such as a {@link StagedEngine}'s)
     * ahead of the group's in the same atomic batch; with {@code sync}, the batch is synced whatever
     * this replica's durability, and the WAL is synced even when there is nothing to write.
     * {@code first} may not write records, idempotency records or their expiry entries: the group
     * reads those from the engine, where {@code first}'s are not yet.
     */
    public List<WriteOutcome> apply(List<WriteRequest> group, WriteBatch first, boolean sync) {
        for (WriteBatch.Mutation m : first.mutations()) {
            byte[] key = switch (m) {
                case WriteBatch.Put p -> p.key();
                case WriteBatch.Delete d -> d.key();
                case WriteBatch.DeleteRange r -> r.fromInclusive();
            };
            if (key.length == 0 || key[0] == Keyspace.DATA || key[0] == Keyspace.IDEMPOTENCY || key[0] == Keyspace.EXPIRY) {
                throw Invariant.violated("writes staged ahead of a group touch what the group reads (%s)", m.getClass().getSimpleName());
            }
        }
        Group g = new Group(first);
        List<WriteOutcome> outcomes = new ArrayList<>(group.size());
        try {
            for (WriteRequest request : group) {
                outcomes.add(g.apply(request));
            }
            if (g.batch.isEmpty()) {
                if (sync) {
                    engine.syncWal();
                }
            } else {
                g.batch.put(Keyspace.meta(META_HLC), ByteBuffer.allocate(8).putLong(clock.lastTimestamp()).array());
                engine.write(g.batch, sync ? Durability.SYNC : durability);
                stats.idempotencyRecords.addAndGet(g.newIdempotencyRecords);
                for (byte[] storageKey : g.corruptReplaced) {
                    stats.corruptRepairedIn(Keyspace.namespaceOf(storageKey), Keyspace.partitionOf(storageKey));
                }
            }
            applyToTrees(g.changes);
        } finally {
            if (trees != null) {
                trees.endGroup();
            }
        }
        stats.writeGroups.increment();
        stats.writeRequests.add(group.size());
        return outcomes;
    }

    /** A record's change as its partition's tree sees it. */
    private record TreeChange(int namespaceId, int partition, byte[] key, long oldHash, long newHash) {}

    private void applyToTrees(List<TreeChange> changes) {
        for (TreeChange c : changes) {
            trees.change(c.namespaceId(), c.partition(), c.key(), c.oldHash(), c.newHash());
        }
    }

    /** An expiry index entry's value: the group's stamp and the version the entry is for. */
    private static byte[] expiryValue(long stamp, Version version) {
        return ByteBuffer.allocate(EXPIRY_VALUE_BYTES).putLong(stamp).putLong(version.timestamp()).putInt(version.nodeId()).array();
    }

    /** The state of one group under construction: its batch and what it has written so far. */
    private final class Group {
        final WriteBatch batch;
        final Map<Key, Record> pending = new HashMap<>();
        final Map<Key, byte[]> pendingIdempotency = new HashMap<>();
        final long now = clock.physicalMillis();
        // Brackets the group for the trees: snapshots stay below it until its changes are applied.
        final long stamp = trees == null ? 0 : trees.beginGroup();
        final List<TreeChange> changes = new ArrayList<>();
        long newIdempotencyRecords;
        // Storage keys whose corrupt copy this group replaces with a healthy one.
        final List<byte[]> corruptReplaced = new ArrayList<>();

        /** A group whose batch starts with {@code first}'s writes (it then owns that batch). */
        Group(WriteBatch first) {
            this.batch = first;
        }

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
            // Checked after the idempotency lookup: a retry of a request that ran before the
            // namespace's limit was lowered replays its outcome rather than refuse what is stored.
            WriteOutcome.Failed tooLarge = request.valueRefusal();
            if (tooLarge != null) {
                return tooLarge;
            }
            List<OpResult> results = new ArrayList<>(request.ops().size());
            // Bounded by bytes: a batch of a thousand reads of one large value would otherwise
            // hold them all at once (and again in its rendered answer).
            BatchReadBudget reads = new BatchReadBudget(limits.maxBatchReadBytes());
            for (Op op : request.ops()) {
                OpResult result = execute(ns, op);
                results.add(op instanceof Op.Get ? reads.admit(result) : result);
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
            Record current = pending.get(new Key(storageKey));
            long oldHash;
            if (current != null) {
                oldHash = SegmentTree.entryHash(key, current);
            } else {
                byte[] raw = engine.get(storageKey);
                try {
                    current = decode(key, raw);
                    oldHash = SegmentTree.entryHash(key, current);
                } catch (CorruptRecordException e) {
                    // The incoming copy repairs the corrupt one.
                    stats.corruptRecords.increment();
                    corruptReplaced.add(storageKey);
                    current = null;
                    oldHash = TreeKeeper.corruptHash(raw);
                }
            }
            if (current != null && !record.version().isNewerThan(current.version())) {
                return new OpResult.Superseded(current.version());
            }
            store(key, storageKey, record, oldHash);
            if (record.tombstone()) {
                batch.put(Keyspace.expiry(record.purgeAtMillis(purgeGraceMillis), storageKey), expiryValue(stamp, record.version()));
                return new OpResult.Deleted(record.version());
            }
            if (record.hasExpiry()) {
                batch.put(Keyspace.expiry(record.purgeAtMillis(purgeGraceMillis), storageKey), expiryValue(stamp, record.version()));
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
            store(key, storageKey, record, currentHash(key, storageKey));
            if (expires != Record.NO_EXPIRY) {
                batch.put(Keyspace.expiry(record.purgeAtMillis(purgeGraceMillis), storageKey), expiryValue(stamp, version));
            }
            return new OpResult.Written(version, expires);
        }

        private OpResult delete(byte[] key, byte[] storageKey) {
            Version version = clock.next();
            Record tombstone = Record.tombstone(version);
            store(key, storageKey, tombstone, currentHash(key, storageKey));
            batch.put(Keyspace.expiry(tombstone.purgeAtMillis(purgeGraceMillis), storageKey), expiryValue(stamp, version));
            return new OpResult.Deleted(version);
        }

        private void store(byte[] key, byte[] storageKey, Record record, long oldHash) {
            batch.put(storageKey, RecordCodec.encode(key, record));
            pending.put(new Key(storageKey), record);
            if (trees != null) {
                changes.add(new TreeChange(Keyspace.namespaceOf(storageKey), Keyspace.partitionOf(storageKey), key, oldHash,
                        SegmentTree.entryHash(key, record)));
            }
        }

        /** The tree hash of what is stored under the key now (blind writes read it only when trees are kept). */
        private long currentHash(byte[] key, byte[] storageKey) {
            if (trees == null) {
                return 0;
            }
            Record inGroup = pending.get(new Key(storageKey));
            if (inGroup != null) {
                return SegmentTree.entryHash(key, inGroup);
            }
            byte[] raw = engine.get(storageKey);
            try {
                return SegmentTree.entryHash(key, decode(key, raw));
            } catch (CorruptRecordException e) {
                return TreeKeeper.corruptHash(raw);
            }
        }

        private Record current(byte[] key, byte[] storageKey) {
            Record inGroup = pending.get(new Key(storageKey));
            return inGroup != null ? inGroup : decode(key, engine.get(storageKey));
        }
    }

    /**
     * Purges up to {@code limit} due expiry index entries: expired records and tombstones past the
     * purge grace that the purge gate allows, expired idempotency outcomes, and stale entries left
     * by overwrites. An entry whose purge the gate holds back, or whose record's purge point moved
     * later (a longer grace since it was written), is moved to when it is due again.
     */
    public SweepResult sweep(int limit, int backlogCountCap) {
        long now = clock.physicalMillis();
        List<StorageEngine.Entry> due = engine.scan(Keyspace.expiryStart(), Keyspace.expiryAfter(now), limit);
        WriteBatch batch = new WriteBatch();
        List<TreeChange> changes = new ArrayList<>();
        long records = 0;
        long tombstones = 0;
        long outcomes = 0;
        long stale = 0;
        long held = 0;
        if (trees != null) {
            trees.beginGroup();
        }
        try {
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
                        byte[] userKey = Keyspace.userKeyOf(target);
                        Record r = RecordCodec.decode(userKey, raw);
                        long purgeAt = r.purgeAtMillis(purgeGraceMillis);
                        byte[] v = entry.value();
                        boolean forThisRecord = v.length == EXPIRY_VALUE_BYTES
                                ? ByteBuffer.wrap(v, 8, 8).getLong() == r.version().timestamp() && ByteBuffer.wrap(v, 16, 4).getInt() == r.version().nodeId()
                                : purgeAt == dueMillis;
                        if (!forThisRecord || purgeAt < 0) {
                            stale++;
                        } else if (purgeAt > now) {
                            batch.put(Keyspace.expiry(purgeAt, target), v);
                        } else if (!gate.confirmed(Keyspace.namespaceOf(target), Keyspace.partitionOf(target),
                                SegmentTree.segmentOf(userKey) / SegmentTree.LEAVES_PER_BRANCH, v.length == EXPIRY_VALUE_BYTES ? ByteBuffer.wrap(v).getLong() : 0)) {
                            batch.put(Keyspace.expiry(now + purgeRecheckMillis, target), v);
                            held++;
                        } else {
                            batch.delete(target);
                            if (trees != null) {
                                changes.add(new TreeChange(Keyspace.namespaceOf(target), Keyspace.partitionOf(target), userKey,
                                        SegmentTree.entryHash(userKey, r), 0));
                            }
                            if (r.tombstone()) {
                                tombstones++;
                            } else {
                                records++;
                            }
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
            if (trees != null) {
                applyToTrees(changes);
            }
        } finally {
            if (trees != null) {
                trees.endGroup();
            }
        }
        stats.expiredRecordsPurged.add(records);
        stats.tombstonesPurged.add(tombstones);
        stats.idempotencyRecordsPurged.add(outcomes);
        stats.staleExpiryEntries.add(stale);
        stats.purgesHeld.add(held);
        stats.idempotencyRecords.addAndGet(-outcomes);
        boolean more = due.size() == limit;
        long backlog = more ? engine.scan(Keyspace.expiryStart(), Keyspace.expiryAfter(now), backlogCountCap).size() : 0;
        stats.sweepBacklog.set(backlog);
        return new SweepResult(due.size(), records, tombstones, outcomes, stale, more);
    }

    // ---------------------------------------------------------------- moving partitions

    /**
     * Deletes up to {@code maxRecords} of this replica's records of a partition it no longer
     * holds (a partition that moved away), taking them out of the segment trees; returns whether
     * records remain. Their expiry-index entries go stale and the sweep drops them. Must run where
     * the sweep runs (between groups), or where no write of the partition can come in between.
     *
     * <p>The partition's Paxos states go first, in the same batch as the first records: a drop
     * may stop halfway (the partition came back to this node), and a state that outlived its
     * records could name a commit whose record is gone, which a prepare takes as proof that the
     * record the replica reports is at least that new. Records without states are what an
     * incoming replica that has not streamed yet holds: the rounds of its joint quorums allow for it.
     */
    public boolean dropPartition(Namespace ns, int partition, int maxRecords) {
        return dropPartition(ns, partition, maxRecords, () -> true);
    }

    /** As {@link #dropPartition(Namespace, int, int)}, deleting nothing (and answering false) once {@code proceed} says no. */
    public boolean dropPartition(Namespace ns, int partition, int maxRecords, java.util.function.BooleanSupplier proceed) {
        if (!proceed.getAsBoolean()) {
            return false;
        }
        List<StorageEngine.Entry> chunk = engine.scan(Keyspace.partitionStart(ns.id(), partition), Keyspace.partitionEnd(ns.id(), partition), maxRecords);
        byte[] statesStart = Keyspace.paxosStart(ns.id(), partition);
        byte[] statesEnd = Keyspace.paxosEnd(ns.id(), partition);
        boolean states = !engine.scan(statesStart, statesEnd, 1).isEmpty();
        if (chunk.isEmpty()) {
            if (states) {
                engine.write(new WriteBatch().deleteRange(statesStart, statesEnd), Durability.ASYNC);
            }
            return false;
        }
        List<TreeChange> changes = new ArrayList<>();
        if (trees != null) {
            trees.beginGroup();
        }
        try {
            WriteBatch batch = new WriteBatch();
            if (states) {
                batch.deleteRange(statesStart, statesEnd);
            }
            for (StorageEngine.Entry e : chunk) {
                batch.delete(e.key());
                byte[] key = Keyspace.userKeyOf(e.key());
                if (trees != null) {
                    long hash;
                    try {
                        hash = SegmentTree.entryHash(key, RecordCodec.decode(key, e.value()));
                    } catch (CorruptRecordException c) {
                        hash = TreeKeeper.corruptHash(e.value());
                    }
                    changes.add(new TreeChange(ns.id(), partition, key, hash, 0));
                }
            }
            // Not synced: a drop lost in a crash is simply redone.
            engine.write(batch, Durability.ASYNC);
            if (trees != null) {
                applyToTrees(changes);
            }
        } finally {
            if (trees != null) {
                trees.endGroup();
            }
        }
        stats.recordsDropped.add(chunk.size());
        return chunk.size() == maxRecords;
    }

    // ---------------------------------------------------------------- anti-entropy

    /** Whether this replica keeps segment trees (a cluster node). */
    public boolean keepsTrees() {
        return trees != null;
    }

    /** The trees, for their figures; null on a single node. */
    public TreeKeeper trees() {
        return trees;
    }

    /**
     * A partition's tree hashes for an exchange (see {@link TreeKeeper#snapshot}); null while the
     * tree is being built, and on a replica that keeps no trees.
     */
    public TreeKeeper.Snapshot summary(Namespace ns, int partition, int[] branches) {
        return trees == null ? null : trees.snapshot(ns.id(), partition, branches);
    }

    /**
     * This replica's records in the given segments of a partition, in key order, up to about
     * {@code maxBytes} of listing; a copy failing its checksum is listed as corrupt. Scans the
     * partition (the keys of a segment are spread over it).
     */
    public SegmentKeys segmentKeys(Namespace ns, int partition, int[] segments, long maxBytes) {
        BitSet wanted = new BitSet(SegmentTree.SEGMENTS);
        for (int seg : segments) {
            wanted.set(seg);
        }
        List<KeyVersion> out = new ArrayList<>();
        long bytes = 0;
        byte[] from = Keyspace.partitionStart(ns.id(), partition);
        byte[] end = Keyspace.partitionEnd(ns.id(), partition);
        while (true) {
            List<StorageEngine.Entry> chunk = engine.scan(from, end, COUNT_CHUNK, COUNT_CHUNK_BYTES);
            if (chunk.isEmpty()) {
                return new SegmentKeys(out, false);
            }
            for (StorageEngine.Entry e : chunk) {
                byte[] key = Keyspace.userKeyOf(e.key());
                if (!wanted.get(SegmentTree.segmentOf(key))) {
                    continue;
                }
                KeyVersion kv;
                try {
                    kv = KeyVersion.of(key, RecordCodec.decode(key, e.value()));
                } catch (CorruptRecordException c) {
                    stats.corruptRecords.increment();
                    kv = KeyVersion.corrupt(key, e.value());
                }
                out.add(kv);
                bytes += kv.weight();
                if (bytes >= maxBytes) {
                    return new SegmentKeys(out, true);
                }
            }
            from = successor(chunk.get(chunk.size() - 1).key());
        }
    }

    /**
     * One step of the scrub: checks the checksums of up to {@code maxRecords} records (or about
     * {@code maxBytes}) from where the last step stopped, quarantines and counts any corrupt one,
     * and feeds the trees' rebuild. Wraps around at the end of the data. Must run on the applier
     * thread, between groups.
     */
    public ScrubStep scrub(int maxRecords, long maxBytes) {
        List<StorageEngine.Entry> chunk = engine.scan(scrubCursor, Keyspace.dataEnd(), maxRecords, maxBytes);
        long bytes = 0;
        long corrupt = 0;
        WriteBatch quarantine = new WriteBatch();
        for (StorageEngine.Entry e : chunk) {
            bytes += e.key().length + e.value().length;
            byte[] key = Keyspace.userKeyOf(e.key());
            long hash;
            try {
                hash = SegmentTree.entryHash(key, RecordCodec.decode(key, e.value()));
            } catch (CorruptRecordException c) {
                hash = TreeKeeper.corruptHash(e.value());
                byte[] q = Keyspace.quarantine(e.key());
                if (!Arrays.equals(engine.get(q), e.value())) {
                    // Kept aside for a post-mortem; the record itself stays (never served) until a healthy copy replaces it.
                    quarantine.put(q, e.value());
                    corrupt++;
                    stats.corruptFoundIn(Keyspace.namespaceOf(e.key()), Keyspace.partitionOf(e.key()));
                }
            }
            if (trees != null) {
                trees.scanned(Keyspace.namespaceOf(e.key()), Keyspace.partitionOf(e.key()), key, hash);
            }
        }
        if (!quarantine.isEmpty()) {
            engine.write(quarantine, Durability.ASYNC);
        }
        stats.scrubbedRecords.add(chunk.size());
        stats.scrubbedBytes.add(bytes);
        boolean ended = chunk.size() < maxRecords && (chunk.isEmpty() || bytes < maxBytes);
        if (ended) {
            if (trees != null) {
                trees.passEnded();
            }
            scrubCursor = Keyspace.dataStart();
            stats.scrubPasses.increment();
        } else {
            scrubCursor = successor(chunk.get(chunk.size() - 1).key());
        }
        return new ScrubStep(chunk.size(), bytes, corrupt, ended);
    }

    /** What one scrub step did; {@code passEnded} when it reached the end of the data. */
    public record ScrubStep(int records, long bytes, long corrupt, boolean passEnded) {}

    /**
     * Stores the trees and marks them clean, so the next start loads them instead of rebuilding.
     * Call once no more writes will be applied (a clean shutdown), and never after a failed write.
     */
    public void persistTrees() {
        if (trees == null) {
            return;
        }
        if (!trees.allReady()) {
            // Half-built trees are not worth keeping: the next start rebuilds.
            return;
        }
        WriteBatch batch = new WriteBatch();
        for (StorageEngine.Entry old : engine.scan(Keyspace.meta(META_TREE_PREFIX), treePrefixEnd(), Integer.MAX_VALUE)) {
            batch.delete(old.key());
        }
        trees.encodedTrees().forEach((slot, encoded) -> batch.put(treeKey(slot), encoded));
        batch.put(Keyspace.meta(META_TREES_CLEAN), new byte[] {1});
        engine.write(batch, Durability.SYNC);
    }

    /** The trees stored at the last clean shutdown, or none (to be built) after a crash; the clean mark is removed first. */
    private TreeKeeper loadTrees() {
        if (engine.get(Keyspace.meta(META_TREES_CLEAN)) == null) {
            return new TreeKeeper(clock::nextTimestamp);
        }
        // From now on the stored trees go stale: a crash before the next clean shutdown must rebuild.
        engine.write(new WriteBatch().delete(Keyspace.meta(META_TREES_CLEAN)), Durability.SYNC);
        Map<Long, SegmentTree> stored = new HashMap<>();
        for (StorageEngine.Entry e : engine.scan(Keyspace.meta(META_TREE_PREFIX), treePrefixEnd(), Integer.MAX_VALUE)) {
            String name = new String(e.key(), 1 + META_TREE_PREFIX.length(), e.key().length - 1 - META_TREE_PREFIX.length(), java.nio.charset.StandardCharsets.US_ASCII);
            try {
                stored.put(Long.parseLong(name, 16), SegmentTree.decode(e.value()));
            } catch (NumberFormatException | CorruptRecordException bad) {
                // A damaged stored tree is never trusted: build them all.
                return new TreeKeeper(clock::nextTimestamp);
            }
        }
        return new TreeKeeper(clock::nextTimestamp, stored);
    }

    private static byte[] treeKey(long slot) {
        return Keyspace.meta(META_TREE_PREFIX + Long.toHexString(slot));
    }

    private static byte[] treePrefixEnd() {
        byte[] end = Keyspace.meta(META_TREE_PREFIX);
        end[end.length - 1]++;
        return end;
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
