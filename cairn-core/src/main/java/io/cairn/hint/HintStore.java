package io.cairn.hint;

import io.cairn.clock.Clock;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.cairn.record.RecordCodec;
import io.cairn.storage.Durability;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.WriteBatch;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Durable hints, stored in the node's own engine under {@code 'h' | target | created | seq}, and
 * the backlog figures operators watch (count, bytes and oldest age per target).
 *
 * <p>A hint survives a process crash at once and a machine crash once the engine's WAL is next
 * synced (see {@link #add}; in production at most {@code storage.asyncSyncInterval} later). Hints older than the hint window are dropped
 * and counted: anti-entropy (a later stage) covers what they carried. Not thread-safe.
 */
public final class HintStore {
    static final byte HINT = 'h';
    // 'h' | u16 target | i64 created millis | i64 sequence
    private static final int KEY_BYTES = 1 + 2 + 8 + 8;
    private static final int SCAN_CHUNK = 1024;

    private final StorageEngine engine;
    private final Clock clock;
    private final long windowMillis;
    private final Map<Integer, Backlog> backlog = new HashMap<>();
    // Targets whose oldest hint was delivered or dropped; their oldestMillis is recomputed lazily.
    private final java.util.Set<Integer> oldestStale = new java.util.HashSet<>();
    // Invariant: every hint key of a target below its cursor is deleted. Keys only grow (created
    // never goes backwards, sequence always grows), so new hints land above every cursor and a
    // scan from the cursor skips the tombstones of delivered hints only once.
    private final Map<Integer, byte[]> cursors = new HashMap<>();
    private long lastCreated;
    private long sequence;
    private long dropped;
    private long stored;
    private long delivered;

    /** Per-target pending hints. */
    public record Backlog(long count, long bytes, long oldestMillis) {}

    public HintStore(StorageEngine engine, Clock clock, long windowMillis) {
        this.engine = engine;
        this.clock = clock;
        this.windowMillis = windowMillis;
        recount();
    }

    private void recount() {
        backlog.clear();
        byte[] from = {HINT};
        byte[] to = {HINT + 1};
        while (true) {
            List<StorageEngine.Entry> chunk = engine.scan(from, to, SCAN_CHUNK);
            for (StorageEngine.Entry e : chunk) {
                Hint h = decode(e.key(), e.value());
                if (h != null) {
                    count(h, 1);
                    sequence = Math.max(sequence, ByteBuffer.wrap(e.key(), 1 + 2 + 8, 8).getLong() + 1);
                    lastCreated = Math.max(lastCreated, h.createdMillis());
                }
            }
            if (chunk.size() < SCAN_CHUNK) {
                return;
            }
            byte[] last = chunk.get(chunk.size() - 1).key();
            from = java.util.Arrays.copyOf(last, last.length + 1);
        }
    }

    /**
     * Stores a hint for {@code target}. The write is not fsynced on its own: it joins the
     * engine's ordered WAL, which the next synced write (a replica write's group commit, the
     * version ceiling) makes durable together with it. A hint stored for a write the coordinator
     * also replicates to itself is therefore durable before that write is acknowledged; one stored
     * after the answer (a replica that timed out) may be lost to a machine crash in the instant
     * before the next sync, which read repair and anti-entropy make good. A fsync per hint would
     * cap a node with a peer down at one fsync per write on the core thread.
     */
    public void add(int target, int namespaceId, byte[] key, Record record) {
        add(target, namespaceId, key, record, Durability.ASYNC);
    }

    /**
     * Stores a hint with the given durability. A fallback node under sloppy quorum stores SYNC:
     * its acknowledgement counts toward W, and the hint is the only copy it holds, so it must be on
     * stable storage before the acknowledgement leaves (one fsync per hinted write, on the caller's
     * thread). Throws {@link io.cairn.storage.StorageException} if the engine could not store it.
     */
    public void add(int target, int namespaceId, byte[] key, Record record, Durability durability) {
        // Never earlier than the last hint, even if the wall clock stepped back: keys must only grow.
        long now = Math.max(clock.nowMillis(), lastCreated);
        lastCreated = now;
        byte[] storageKey = ByteBuffer.allocate(KEY_BYTES).put(HINT).putShort((short) target).putLong(now).putLong(sequence++).array();
        byte[] encoded = RecordCodec.encode(key, record);
        byte[] value = ByteBuffer.allocate(4 + 4 + key.length + encoded.length)
                .putInt(namespaceId).putInt(key.length).put(key).put(encoded).array();
        engine.write(new WriteBatch().put(storageKey, value), durability);
        count(new Hint(storageKey, target, now, namespaceId, key, record), 1);
        stored++;
    }

    /** Up to {@code limit} hints for a target, oldest first. */
    public List<Hint> pending(int target, int limit) {
        byte[] from = cursors.getOrDefault(target, ByteBuffer.allocate(3).put(HINT).putShort((short) target).array());
        byte[] to = ByteBuffer.allocate(3).put(HINT).putShort((short) (target + 1)).array();
        if (target == 0xFFFF) {
            to = new byte[] {HINT + 1};
        }
        List<Hint> hints = new ArrayList<>();
        List<StorageEngine.Entry> entries = engine.scan(from, to, limit);
        if (!entries.isEmpty()) {
            cursors.put(target, entries.get(0).key());
        }
        for (StorageEngine.Entry e : entries) {
            Hint h = decode(e.key(), e.value());
            if (h != null) {
                hints.add(h);
            }
        }
        return hints;
    }

    /** The hint was handed off (the target stored it or something newer): forget it. */
    public void delivered(Hint hint) {
        if (engine.get(hint.storageKey()) == null) {
            return;
        }
        engine.write(new WriteBatch().delete(hint.storageKey()), Durability.ASYNC);
        count(hint, -1);
        delivered++;
    }

    /** Drops hints older than the window for every target; returns how many. */
    public long dropExpired() {
        long cutoff = clock.nowMillis() - windowMillis;
        long n = 0;
        for (int target : new ArrayList<>(backlog.keySet())) {
            while (true) {
                List<Hint> oldest = pending(target, SCAN_CHUNK);
                WriteBatch batch = new WriteBatch();
                for (Hint h : oldest) {
                    if (h.createdMillis() >= cutoff) {
                        break;
                    }
                    batch.delete(h.storageKey());
                    count(h, -1);
                    n++;
                }
                if (!batch.isEmpty()) {
                    engine.write(batch, Durability.ASYNC);
                }
                if (batch.size() < SCAN_CHUNK) {
                    break;
                }
            }
        }
        dropped += n;
        return n;
    }

    public Map<Integer, Backlog> backlog() {
        for (int target : oldestStale) {
            Backlog b = backlog.get(target);
            if (b != null && b.count() > 0) {
                List<Hint> next = pending(target, 1);
                backlog.put(target, new Backlog(b.count(), b.bytes(), next.isEmpty() ? 0 : next.get(0).createdMillis()));
            }
        }
        oldestStale.clear();
        Map<Integer, Backlog> m = new TreeMap<>(backlog);
        m.values().removeIf(b -> b.count() == 0);
        return m;
    }

    public long pendingCount() {
        return backlog.values().stream().mapToLong(Backlog::count).sum();
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

    private void count(Hint h, int delta) {
        backlog.compute(h.target(), (t, b) -> {
            long count = (b == null ? 0 : b.count()) + delta;
            long bytes = (b == null ? 0 : b.bytes()) + delta * h.bytes();
            long oldest = count == 0 ? 0 : delta > 0
                    ? (b == null || b.count() == 0 ? h.createdMillis() : Math.min(b.oldestMillis(), h.createdMillis()))
                    : b.oldestMillis();
            return new Backlog(count, bytes, oldest);
        });
        if (delta < 0) {
            Backlog b = backlog.get(h.target());
            if (b.count() > 0 && h.createdMillis() <= b.oldestMillis()) {
                // Found again by backlog(), once, instead of a scan per delivered hint.
                oldestStale.add(h.target());
            }
        }
    }

    /**
     * The hint stored under {@code storageKey}, or null when it is corrupt: it is then deleted and
     * counted as dropped, since it cannot be handed off (anti-entropy covers the write it carried).
     * Only the failures a malformed hint causes are caught; any other exception is a bug and propagates.
     */
    private Hint decode(byte[] storageKey, byte[] value) {
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
            engine.write(new WriteBatch().delete(storageKey), Durability.ASYNC);
            dropped++;
            return null;
        }
    }
}
