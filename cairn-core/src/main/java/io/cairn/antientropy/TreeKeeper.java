package io.cairn.antientropy;

import io.cairn.placement.KeyHash;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.LongSupplier;

/**
 * A replica's segment trees: one per (namespace, partition) it holds records of, kept up to date
 * as records change ({@link #change}) and checked against storage by a slow pass over every record
 * (the scrub, driven by {@code LocalReplica#scrub}), which rebuilds each partition's tree beside
 * the live one and replaces the live one when they differ.
 *
 * <p><b>Readiness.</b> Trees loaded from a clean shutdown are ready at once. Otherwise the first
 * pass builds them: a partition's tree is ready once that pass has gone past it, and until then an
 * exchange asking for it is told to come back later ({@link #snapshot} returns null).
 *
 * <p><b>Rebuilding while writes go on.</b> The pass scans one partition at a time into a fresh
 * tree. A change to a key the pass has already scanned is applied to the fresh tree too; a change
 * to a key it has not reached is picked up when it gets there. Both happen on the applier thread,
 * so the fresh tree is exact when the pass leaves the partition.
 *
 * <p><b>Stamps.</b> The applier brackets every group of writes with {@link #beginGroup} (which
 * stamps it from a monotonic source, the node's hybrid clock) and {@link #endGroup}, applying the
 * group's changes to the trees in between, once its batch is durable. A snapshot's stamp is
 * below the stamp of any group still in flight, so "snapshot stamp &gt; group stamp" means the
 * snapshot contains the group's changes, and they are on disk. That is what the safe purge rule
 * rests on: a peer's tree that matched a snapshot stamped after a tombstone's group holds the
 * tombstone too.
 *
 * <p><b>Threads.</b> {@link #change} and the pass methods are called by the one thread that
 * applies records; {@link #snapshot} may be called from any thread.
 */
public final class TreeKeeper {
    private static final long CORRUPT_SEED = 0xC0_22_0B7L;

    private final LongSupplier stamps;
    // Slot key (namespace id << 16 | partition) → its tree; sorted as storage keys are.
    private final ConcurrentSkipListMap<Long, Slot> slots = new ConcurrentSkipListMap<>();
    // The slot key the first pass has reached; every slot below it is built. -1: all built.
    private volatile long builtBelow;
    // The pass: the slot being rebuilt and the user key it has scanned up to (exclusive), or null.
    private Slot passing;
    private byte[] passCursor;
    private long lastPassed = -1;
    private long mismatchedPartitions;
    private final Object stampLock = new Object();
    // The stamp of the group being applied; Long.MAX_VALUE when none. Guarded by stampLock.
    private long inFlight = Long.MAX_VALUE;

    /** Trees to be built by the first pass. */
    public TreeKeeper(LongSupplier stamps) {
        this.stamps = stamps;
        this.builtBelow = 0;
    }

    /** Trees as stored at a clean shutdown: ready at once. */
    public TreeKeeper(LongSupplier stamps, Map<Long, SegmentTree> stored) {
        this.stamps = stamps;
        stored.forEach((k, t) -> slots.put(k, new Slot(k, t)));
        this.builtBelow = -1;
    }

    public static long slotKey(int namespaceId, int partition) {
        return ((long) namespaceId << 16) | (partition & 0xFFFF);
    }

    public static int namespaceOf(long slotKey) {
        return (int) (slotKey >>> 16);
    }

    public static int partitionOf(long slotKey) {
        return (int) (slotKey & 0xFFFF);
    }

    /** The entry hash of a record that fails its checksum: never a valid record's, so its segment differs from every healthy copy's. */
    public static long corruptHash(byte[] raw) {
        long h = KeyHash.xxh64(raw, 0, raw.length, CORRUPT_SEED);
        return h == 0 ? 2 : h;
    }

    /** A group of writes starts: its stamp, which every snapshot taken until {@link #endGroup} stays below. */
    public long beginGroup() {
        synchronized (stampLock) {
            inFlight = stamps.getAsLong();
            return inFlight;
        }
    }

    /** The group's changes are all applied (or it failed and made none). */
    public void endGroup() {
        synchronized (stampLock) {
            inFlight = Long.MAX_VALUE;
        }
    }

    /**
     * {@code key}'s record changed, durably, from the one hashing to {@code oldHash} to
     * {@code newHash}; called between {@link #beginGroup} and {@link #endGroup}.
     */
    public void change(int namespaceId, int partition, byte[] key, long oldHash, long newHash) {
        long k = slotKey(namespaceId, partition);
        Slot slot = slots.computeIfAbsent(k, x -> new Slot(x, new SegmentTree()));
        synchronized (slot) {
            slot.tree.change(key, oldHash, newHash);
            if (slot == passing && Arrays.compareUnsigned(key, passCursor) < 0) {
                slot.fresh.change(key, oldHash, newHash);
            }
        }
    }

    /** How many trees are kept: one per (namespace, partition) that held a record since the start. */
    public int trees() {
        return slots.size();
    }

    /** Whether the tree of this partition is built (exchanges wait until it is). */
    public boolean ready(int namespaceId, int partition) {
        long below = builtBelow;
        return below < 0 || slotKey(namespaceId, partition) < below;
    }

    /**
     * The hashes an exchange compares, with the stamp of the moment they were taken: with no
     * branches, the root followed by the {@value SegmentTree#BRANCHES} branch hashes; else the
     * {@value SegmentTree#LEAVES_PER_BRANCH} segment hashes of each branch asked for, in order.
     * Null while the tree is not built.
     */
    public Snapshot snapshot(int namespaceId, int partition, int[] branches) {
        if (!ready(namespaceId, partition)) {
            return null;
        }
        long k = slotKey(namespaceId, partition);
        Slot slot = slots.get(k);
        if (slot == null) {
            // A partition with no records gets no tree (every namespace's every partition is
            // exchanged: empty ones must cost nothing). The stamp is taken before looking again:
            // a group that created the tree and ended before it is seen; one that did not end has
            // a stamp above it, so the empty answer claims nothing about that group.
            long stamp = stamp();
            slot = slots.get(k);
            if (slot == null) {
                return new Snapshot(stamp, hashes(EMPTY, branches));
            }
        }
        synchronized (slot) {
            return new Snapshot(stamp(), hashes(slot.tree, branches));
        }
    }

    private static final SegmentTree EMPTY = new SegmentTree(); // never changed

    private static long[] hashes(SegmentTree tree, int[] branches) {
        long[] hashes;
        if (branches.length == 0) {
            hashes = new long[1 + SegmentTree.BRANCHES];
            hashes[0] = tree.root();
            System.arraycopy(tree.branches(), 0, hashes, 1, SegmentTree.BRANCHES);
        } else {
            hashes = new long[branches.length * SegmentTree.LEAVES_PER_BRANCH];
            for (int i = 0; i < branches.length; i++) {
                System.arraycopy(tree.leaves(branches[i]), 0, hashes, i * SegmentTree.LEAVES_PER_BRANCH, SegmentTree.LEAVES_PER_BRANCH);
            }
        }
        return hashes;
    }

    private long stamp() {
        synchronized (stampLock) {
            return Math.min(stamps.getAsLong(), inFlight - 1);
        }
    }

    /** Hashes and the stamp of the moment they were read. */
    public record Snapshot(long stamp, long[] hashes) {}

    // ---------------------------------------------------------------- the pass (applier thread)

    /**
     * The pass has reached a record of partition ({@code namespaceId}, {@code partition}) with
     * user key {@code key} hashing to {@code hash}. Partitions the pass skipped over since the
     * last call hold no records: their trees are emptied.
     */
    public void scanned(int namespaceId, int partition, byte[] key, long hash) {
        long k = slotKey(namespaceId, partition);
        if (passing == null || passing.key != k) {
            finishPassing();
            clearBetween(lastPassed, k);
            Slot slot = slots.computeIfAbsent(k, x -> new Slot(x, new SegmentTree()));
            synchronized (slot) {
                passing = slot;
                passing.fresh = new SegmentTree();
                passCursor = new byte[0];
            }
        }
        synchronized (passing) {
            passing.fresh.change(key, 0, hash);
            // Every key up to and including this one is scanned.
            passCursor = Arrays.copyOf(key, key.length + 1);
        }
    }

    /** The pass reached the end of storage: trees of partitions it did not find records of are emptied; the next pass starts over. */
    public void passEnded() {
        finishPassing();
        clearBetween(lastPassed, Long.MAX_VALUE);
        lastPassed = -1;
        builtBelow = -1;
    }

    /** Partitions whose live tree a pass found different from storage (missed updates, corruption). */
    public synchronized long mismatchedPartitions() {
        return mismatchedPartitions;
    }

    private void finishPassing() {
        if (passing == null) {
            return;
        }
        synchronized (passing) {
            if (!passing.tree.equals(passing.fresh)) {
                countMismatch();
                passing.tree = passing.fresh;
            }
            passing.fresh = null;
            lastPassed = passing.key;
            if (builtBelow >= 0) {
                builtBelow = passing.key + 1;
            }
        }
        passing = null;
        passCursor = null;
    }

    private void clearBetween(long fromExclusive, long toExclusive) {
        if (toExclusive <= fromExclusive + 1) {
            return;
        }
        for (Slot slot : slots.subMap(fromExclusive + 1, toExclusive).values()) {
            synchronized (slot) {
                if (!slot.tree.isEmpty()) {
                    countMismatch();
                    slot.tree = new SegmentTree();
                }
            }
        }
        if (builtBelow >= 0 && toExclusive != Long.MAX_VALUE) {
            builtBelow = toExclusive;
        }
    }

    private synchronized void countMismatch() {
        mismatchedPartitions++;
    }

    /** Every non-empty tree in its stored form ({@link SegmentTree#encode}), for a clean shutdown; call once writes have stopped. */
    public Map<Long, byte[]> encodedTrees() {
        Map<Long, byte[]> out = new java.util.TreeMap<>();
        for (Slot slot : slots.values()) {
            synchronized (slot) {
                if (!slot.tree.isEmpty()) {
                    out.put(slot.key, slot.tree.encode());
                }
            }
        }
        return out;
    }

    /** Whether every tree is built (the first pass is done or they were loaded). */
    public boolean allReady() {
        return builtBelow < 0;
    }

    private static final class Slot {
        final long key;
        SegmentTree tree;
        SegmentTree fresh;

        Slot(long key, SegmentTree tree) {
            this.key = key;
            this.tree = tree;
        }
    }
}
