package io.cairn.cluster;

import io.cairn.clock.Clock;
import io.cairn.replica.LocalStore;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.cairn.record.RecordCodec;
import io.cairn.storage.Durability;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.StorageException;
import io.cairn.storage.WriteBatch;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Durable hints, stored in the node's own engine under {@code 'h' | target | created | seq}, and
 * the backlog figures operators watch (count, bytes and oldest age per target).
 *
 * <p><b>Effects.</b> Apart from the recovery scan in the constructor (before the node serves),
 * every read, write and scan of hints is a job on the {@link LocalStore#run storage lane}: the
 * store keeps its bookkeeping (keys issued, cursors, backlog) on the core's thread and changes it
 * when a job's completion arrives. Jobs run in submission order, so a scan sees every hint added
 * before it and a hand-off's delete follows the hint's write.
 *
 * <p>A hint survives a process crash once its job ran, and a machine crash once it was synced
 * (see {@link #add}). Hints older than the hint window are dropped and counted: anti-entropy (a
 * later stage) covers what they carried.
 *
 * <p><b>Shards.</b> Every core shard of a node keeps a store of its own over the one hint keyspace:
 * a shard's hint keys carry sequence numbers of its residue modulo the shard count, and a store
 * counts, hands off and drops only the hints it owns by that rule, skipping the others' in its
 * scans. Hints written under another shard count (before a restart) are owned by the same rule
 * under the new count, so none is orphaned. Not thread-safe: the core's thread only.
 */
final class HintStore {
    static final byte HINT = 'h';
    // 'h' | u16 target | i64 created millis | i64 sequence
    private static final int KEY_BYTES = 1 + 2 + 8 + 8;
    private static final int SCAN_CHUNK = 1024;
    // A hand-off scan reads at most this many chunks past other shards' hints before it returns.
    private static final int SCAN_CHUNKS_PER_JOB = 8;
    // A scan holds at most about this many bytes of hints (keys and values) at once: hints carry
    // whole values, so a count alone does not bound the memory a scan takes.
    static final long SCAN_BYTES = 4L << 20;

    private final LocalStore storage;
    private final Clock clock;
    private final long windowMillis;
    private final Shard shard;
    private final Map<Integer, HintBacklog> backlog = new HashMap<>();
    // Targets whose oldest hint was delivered or dropped; their oldestMillis is recomputed lazily.
    private final Set<Integer> oldestStale = new HashSet<>();
    // Invariant: every hint key of a target this store owns below its cursor is deleted. Its keys
    // only grow (created never goes backwards, sequence always grows), so its new hints land above
    // its cursors and a scan from the cursor skips the tombstones of delivered hints only once. A
    // cursor is always the key of one of its own hints, found by a job; it stays valid forever
    // (deletes are final), whichever order completions set it in. (Another shard's keys may land
    // anywhere: its clock readings need not be above this store's.)
    private final Map<Integer, byte[]> cursors = new HashMap<>();
    private long lastCreated;
    private long sequence;
    private long dropped;
    private long stored;
    // Hints handed to the storage lane and not yet stored (or failed).
    private long adding;
    private long delivered;
    private long failed;


    /**
     * Recovers the backlog from {@code engine} (a scan of every hint, on the caller's thread, once,
     * before the node serves); every later access goes through {@code storage}.
     */
    public HintStore(StorageEngine engine, LocalStore storage, Clock clock, long windowMillis) {
        this(engine, storage, clock, windowMillis, Shard.ONLY);
    }

    /** The store of core shard {@code shard}: it owns the hints whose sequence is the shard's. */
    public HintStore(StorageEngine engine, LocalStore storage, Clock clock, long windowMillis, Shard shard) {
        this.storage = storage;
        this.clock = clock;
        this.windowMillis = windowMillis;
        this.shard = shard;
        recount(engine);
    }

    private void recount(StorageEngine engine) {
        byte[] from = {HINT};
        byte[] to = {HINT + 1};
        while (true) {
            List<StorageEngine.Entry> chunk = engine.scan(from, to, SCAN_CHUNK, SCAN_BYTES);
            if (chunk.isEmpty()) {
                break;
            }
            // Every shard's store scans all hints: its sequence and creation times start above
            // every shard's, and it counts its own. Corrupt hints are deleted (and counted) by
            // whichever store decodes them first.
            Scan scan = decodeAll(engine, chunk, Shard.ONLY);
            dropped += scan.corrupt;
            for (Hint h : scan.hints) {
                if (shard.owns(sequenceOf(h.storageKey()))) {
                    count(h, 1);
                }
                sequence = Math.max(sequence, sequenceOf(h.storageKey()) + 1);
                lastCreated = Math.max(lastCreated, h.createdMillis());
            }
            byte[] last = chunk.get(chunk.size() - 1).key();
            from = Arrays.copyOf(last, last.length + 1);
        }
        sequence = shard.firstAtLeast(sequence);
    }

    private static long sequenceOf(byte[] storageKey) {
        return ByteBuffer.wrap(storageKey, 1 + 2 + 8, 8).getLong();
    }

    /**
     * Stores a hint for {@code target}, not fsynced on its own: it joins the engine's ordered WAL,
     * which the next synced write (a replica write's group commit, the version ceiling) makes
     * durable together with it. A hint stored after the answer (a replica that timed out) may be
     * lost to a machine crash in the instant before the next sync, which read repair and
     * anti-entropy make good. A fsync per hint would cap a node with a peer down at one fsync per
     * write. A hint the engine refuses is counted ({@link #failedCount}); anti-entropy covers it.
     */
    public void add(int target, int namespaceId, byte[] key, Record record) {
        add(target, namespaceId, key, record, Durability.ASYNC, failure -> { });
    }

    /**
     * Stores a hint with the given durability and calls {@code done} (on the core's thread) with
     * null once it is stored, or with the engine's failure. A fallback node under sloppy quorum
     * stores SYNC: its acknowledgement counts toward W, and the hint is the only copy it holds, so
     * it must be on stable storage before the acknowledgement leaves.
     */
    public void add(int target, int namespaceId, byte[] key, Record record, Durability durability, Consumer<StorageException> done) {
        // Never earlier than the last hint, even if the wall clock stepped back: keys must only grow.
        long now = Math.max(clock.nowMillis(), lastCreated);
        lastCreated = now;
        byte[] storageKey = ByteBuffer.allocate(KEY_BYTES).put(HINT).putShort((short) target).putLong(now).putLong(sequence).array();
        sequence += shard.count();
        byte[] encoded = RecordCodec.encode(key, record);
        byte[] value = ByteBuffer.allocate(4 + 4 + key.length + encoded.length)
                .putInt(namespaceId).putInt(key.length).put(key).put(encoded).array();
        Hint hint = new Hint(storageKey, target, now, namespaceId, key, record);
        adding++;
        storage.run(engine -> {
            engine.write(new WriteBatch().put(storageKey, value), durability);
            return hint;
        }, (h, failure) -> {
            adding--;
            if (failure == null) {
                count(h, 1);
                stored++;
            } else {
                failed++;
            }
            done.accept(failure);
        });
    }

    /**
     * Calls {@code done} with up to {@code limit} hints for a target, oldest first, holding at most
     * about {@link #SCAN_BYTES} (at least one hint when there is any); none when the scan failed.
     */
    public void pending(int target, int limit, Consumer<List<Hint>> done) {
        byte[] from = cursors.getOrDefault(target, ByteBuffer.allocate(3).put(HINT).putShort((short) target).array());
        byte[] to = target == 0xFFFF ? new byte[] {HINT + 1} : ByteBuffer.allocate(3).put(HINT).putShort((short) (target + 1)).array();
        storage.run(engine -> scanOwn(engine, from, to, limit), (scan, failure) -> {
            if (failure != null) {
                done.accept(List.of());
                return;
            }
            absorb(target, scan);
            done.accept(scan.hints);
        });
    }

    /**
     * Runs on the storage lane: up to {@code limit} of this store's hints in {@code [from, to)},
     * in chunks of at most {@link #SCAN_BYTES}, past other shards' hints; it stops after
     * {@link #SCAN_CHUNKS_PER_JOB} chunks, so one job never reads far ahead of what it returns.
     */
    private Scan scanOwn(StorageEngine engine, byte[] from, byte[] to, int limit) {
        List<Hint> own = new ArrayList<>();
        byte[] first = null;
        int corrupt = 0;
        byte[] next = from;
        for (int chunk = 0; chunk < SCAN_CHUNKS_PER_JOB && own.size() < limit; chunk++) {
            List<StorageEngine.Entry> entries = engine.scan(next, to, limit - own.size(), SCAN_BYTES);
            if (entries.isEmpty()) {
                break;
            }
            Scan scan = decodeAll(engine, entries, shard);
            corrupt += scan.corrupt;
            if (first == null) {
                first = scan.first;
            }
            own.addAll(scan.hints);
            if (shard.count() == 1 || !own.isEmpty()) {
                break; // Enough to hand off; the next round goes on from the cursor.
            }
            byte[] last = entries.get(entries.size() - 1).key();
            next = Arrays.copyOf(last, last.length + 1);
        }
        return new Scan(own, first, corrupt);
    }

    /** The hint was handed off (the target stored it or something newer): forget it. */
    public void delivered(Hint hint) {
        storage.run(engine -> {
            if (engine.get(hint.storageKey()) == null) {
                return false;
            }
            engine.write(new WriteBatch().delete(hint.storageKey()), Durability.ASYNC);
            return true;
        }, (deleted, failure) -> {
            // A failed delete leaves the hint to be handed off again: harmless, replicas keep the newest.
            if (failure == null && deleted) {
                count(hint, -1);
                delivered++;
            }
        });
    }

    /** Drops hints older than the window for every target, in one job; counted when it completes. */
    public void dropExpired() {
        long cutoff = clock.nowMillis() - windowMillis;
        Map<Integer, byte[]> from = new HashMap<>();
        for (int target : backlog.keySet()) {
            from.put(target, cursors.getOrDefault(target, ByteBuffer.allocate(3).put(HINT).putShort((short) target).array()));
        }
        storage.run(engine -> {
            Map<Integer, Expired> expired = new HashMap<>();
            from.forEach((target, cursor) -> expired.put(target, dropOlderThan(engine, target, cursor, cutoff, shard)));
            return expired;
        }, (expired, failure) -> {
            if (failure != null) {
                return; // The next pass tries again.
            }
            expired.forEach((target, e) -> {
                absorb(target, e.scan);
                e.dropped.forEach(h -> count(h, -1));
                dropped += e.dropped.size();
            });
        });
    }

    /**
     * Drops every hint for {@code target}, a node that left the cluster: its partitions were
     * re-replicated from the replicas that hold the writes it missed.
     */
    public void dropTarget(int target) {
        if (!backlog.containsKey(target)) {
            return;
        }
        byte[] from = ByteBuffer.allocate(3).put(HINT).putShort((short) target).array();
        storage.run(engine -> dropOlderThan(engine, target, from, Long.MAX_VALUE, shard), (e, failure) -> {
            if (failure != null) {
                return; // The next replay pass tries again.
            }
            absorb(target, e.scan);
            e.dropped.forEach(h -> count(h, -1));
            dropped += e.dropped.size();
        });
    }

    /** What one target's expiry pass deleted, and what its scans saw (for the cursor). */
    private record Expired(List<Hint> dropped, Scan scan) {}

    /** Runs on the storage lane: deletes a target's hints created before {@code cutoff}. */
    private static Expired dropOlderThan(StorageEngine engine, int target, byte[] cursor, long cutoff, Shard shard) {
        byte[] to = target == 0xFFFF ? new byte[] {HINT + 1} : ByteBuffer.allocate(3).put(HINT).putShort((short) (target + 1)).array();
        List<Hint> dropped = new ArrayList<>();
        int corrupt = 0;
        byte[] from = cursor;
        byte[] first = null;
        while (true) {
            List<StorageEngine.Entry> entries = engine.scan(from, to, SCAN_CHUNK, SCAN_BYTES);
            if (entries.isEmpty()) {
                break;
            }
            Scan scan = decodeAll(engine, entries, shard);
            corrupt += scan.corrupt;
            if (first == null) {
                first = scan.first;
            }
            WriteBatch batch = new WriteBatch();
            boolean reachedLive = false;
            for (Hint h : scan.hints) {
                if (h.createdMillis() >= cutoff) {
                    reachedLive = true;
                    break;
                }
                batch.delete(h.storageKey());
                dropped.add(h);
            }
            if (!batch.isEmpty()) {
                engine.write(batch, Durability.ASYNC);
            }
            if (reachedLive) {
                break;
            }
            byte[] last = entries.get(entries.size() - 1).key();
            from = Arrays.copyOf(last, last.length + 1);
        }
        return new Expired(dropped, new Scan(List.of(), first, corrupt));
    }

    /** Takes in what a scan learned: corrupt hints it dropped, and where the target's hints now start. */
    private void absorb(int target, Scan scan) {
        dropped += scan.corrupt;
        if (scan.first != null) {
            cursors.put(target, scan.first);
        }
    }

    public Map<Integer, HintBacklog> backlog() {
        for (int target : oldestStale) {
            HintBacklog b = backlog.get(target);
            if (b != null && b.count() > 0) {
                pending(target, 1, next -> backlog.computeIfPresent(target,
                        (t, now) -> new HintBacklog(now.count(), now.bytes(), next.isEmpty() ? 0 : next.get(0).createdMillis())));
            }
        }
        oldestStale.clear();
        Map<Integer, HintBacklog> m = new TreeMap<>(backlog);
        m.values().removeIf(b -> b.count() == 0);
        return m;
    }

    /** Hints handed to storage and not yet stored: not in the backlog yet, but a node holding them is not done handing off. */
    public long addingCount() {
        return adding;
    }

    public long pendingCount() {
        return backlog.values().stream().mapToLong(HintBacklog::count).sum();
    }

    public long droppedCount() {
        return dropped;
    }

    public long storedCount() {
        return stored;
    }

    public long deliveredCount() {
        return delivered;
    }

    /** Hints the engine refused to store. */
    public long failedCount() {
        return failed;
    }

    private void count(Hint h, int delta) {
        backlog.compute(h.target(), (t, b) -> {
            long count = (b == null ? 0 : b.count()) + delta;
            long bytes = (b == null ? 0 : b.bytes()) + delta * h.bytes();
            long oldest = count == 0 ? 0 : delta > 0
                    ? (b == null || b.count() == 0 ? h.createdMillis() : Math.min(b.oldestMillis(), h.createdMillis()))
                    : b.oldestMillis();
            return new HintBacklog(count, bytes, oldest);
        });
        if (delta < 0) {
            HintBacklog b = backlog.get(h.target());
            if (b.count() > 0 && h.createdMillis() <= b.oldestMillis()) {
                // Found again by backlog(), once, instead of a scan per delivered hint.
                oldestStale.add(h.target());
            }
        }
    }

    /**
     * What a scan found: its hints, the key of its first hint (where the target's hints of this
     * store start now; null when it found none), and how many corrupt hints it deleted.
     */
    private record Scan(List<Hint> hints, byte[] first, int corrupt) {}

    /**
     * Decodes the scanned entries {@code shard} owns; a corrupt hint (whoever owns it) is deleted
     * and counted, since it cannot be handed off.
     */
    private static Scan decodeAll(StorageEngine engine, List<StorageEngine.Entry> entries, Shard shard) {
        List<Hint> hints = new ArrayList<>(entries.size());
        WriteBatch corrupt = new WriteBatch();
        for (StorageEngine.Entry e : entries) {
            Hint h = decode(e.key(), e.value());
            if (h == null) {
                corrupt.delete(e.key());
            } else if (shard.owns(sequenceOf(h.storageKey()))) {
                hints.add(h);
            }
        }
        if (!corrupt.isEmpty()) {
            engine.write(corrupt, Durability.ASYNC);
        }
        return new Scan(hints, hints.isEmpty() ? null : hints.get(0).storageKey(), corrupt.size());
    }

    /**
     * The hint stored under {@code storageKey}, or null when it is corrupt (anti-entropy covers the
     * write it carried). Only the failures a malformed hint causes are caught; any other exception
     * is a bug and propagates.
     */
    private static Hint decode(byte[] storageKey, byte[] value) {
        try {
            if (storageKey.length != KEY_BYTES) {
                throw new CorruptRecordException("hint key of " + storageKey.length + " bytes, not " + KEY_BYTES);
            }
            ByteBuffer k = ByteBuffer.wrap(storageKey);
            k.get();
            int target = Short.toUnsignedInt(k.getShort());
            long created = k.getLong();
            ByteBuffer v = ByteBuffer.wrap(value);
            int ns = v.getInt();
            int keyLength = v.getInt();
            if (keyLength < 0 || keyLength > v.remaining()) {
                throw new CorruptRecordException("hint key length " + keyLength + " but " + v.remaining() + " bytes remain");
            }
            byte[] key = new byte[keyLength];
            v.get(key);
            byte[] record = new byte[v.remaining()];
            v.get(record);
            return new Hint(storageKey, target, created, ns, key, RecordCodec.decode(key, record));
        } catch (CorruptRecordException | BufferUnderflowException e) {
            return null;
        }
    }
}
