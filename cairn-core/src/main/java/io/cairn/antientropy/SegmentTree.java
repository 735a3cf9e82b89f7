package io.cairn.antientropy;

import io.cairn.placement.KeyHash;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One replica's summary of one partition for anti-entropy, in the manner of Riak's TictacAAE: a
 * fixed tree of {@value #SEGMENTS} segment hashes under {@value #BRANCHES} branch hashes under a
 * root, where every hash is the XOR of the entry hashes below it.
 *
 * <p><b>Model.</b> A key belongs to segment {@link #segmentOf(byte[])} (a hash of the key with
 * its own seed, independent of the partition hash). Its entry hash ({@link #entryHash}) covers
 * the key, the record's version, whether it is a tombstone, its expiry and its value, so two
 * replicas agree on a segment exactly when they hold the same records in it (short of a 64-bit
 * collision). XOR makes every update incremental and order-free: applying a record XORs out the
 * hash of the one it replaces and XORs in its own ({@link #change}), never a rescan; a tree
 * rebuilt from storage equals the one kept up to date, which is how a rebuild catches what
 * updates missed (a corrupt disk, a bug).
 *
 * <p><b>Exchange.</b> Two replicas compare roots; when they differ, the branches; for each
 * differing branch, its {@value #LEAVES_PER_BRANCH} segments; then only the keys of differing
 * segments are listed and reconciled. Finding ten differing keys among a million costs the root,
 * one branch vector (512 bytes) and ten leaf vectors (512 bytes each): kilobytes, not the keys.
 *
 * <p>Not thread-safe; a tree belongs to the thread that applies its partition's writes.
 */
public final class SegmentTree {
    public static final int BRANCHES = 64;
    public static final int LEAVES_PER_BRANCH = 64;
    public static final int SEGMENTS = BRANCHES * LEAVES_PER_BRANCH;
    private static final long SEGMENT_SEED = 0x5E6D_E47L;
    private static final long ENTRY_SEED = 0xE47_12E5L;
    private static final byte FORMAT = 1;
    /** The encoded size: format byte, the segments, a check hash. */
    public static final int ENCODED_BYTES = 1 + SEGMENTS * Long.BYTES + Long.BYTES;

    // Invariant: branches[b] is the XOR of leaves[b] (null: all 0, never written), root the XOR of
    // branches. A branch's leaves are allocated when a record first lands in it, so a partition
    // with few records (a small namespace's) costs a few 512-byte vectors, not all 32 KiB.
    private final long[][] leaves = new long[BRANCHES][];
    private final long[] branches = new long[BRANCHES];
    private long root;

    /** The segment {@code key} belongs to. */
    public static int segmentOf(byte[] key) {
        return (int) (KeyHash.xxh64(key, 0, key.length, SEGMENT_SEED) >>> 52) & (SEGMENTS - 1);
    }

    /** What {@code record} stored under {@code key} contributes to its segment; 0 for no record. */
    public static long entryHash(byte[] key, Record record) {
        if (record == null) {
            return 0;
        }
        long h = KeyHash.xxh64(key, 0, key.length, ENTRY_SEED);
        h = mix(h, record.version().timestamp());
        h = mix(h, record.version().nodeId());
        h = mix(h, record.tombstone() ? 1 : 0);
        h = mix(h, record.expiresAtMillis());
        if (!record.tombstone()) {
            h = mix(h, KeyHash.xxh64(record.value(), 0, record.value().length, ENTRY_SEED));
            h = mix(h, record.contentType() == null ? 0 : KeyHash.xxh64(record.contentType().getBytes(StandardCharsets.UTF_8)));
        }
        // Never 0: 0 stands for "no record", so a record must always change its segment.
        return h == 0 ? 1 : h;
    }

    private static long mix(long h, long v) {
        long x = (h ^ v) * 0x9E3779B97F4A7C15L;
        return x ^ (x >>> 29);
    }

    /**
     * {@code key}'s record changed from the one hashing to {@code oldHash} to the one hashing to
     * {@code newHash} (0 for none, either side).
     */
    public void change(byte[] key, long oldHash, long newHash) {
        long delta = oldHash ^ newHash;
        if (delta == 0) {
            return;
        }
        xor(segmentOf(key), delta);
    }

    private void xor(int segment, long delta) {
        int b = segment / LEAVES_PER_BRANCH;
        long[] l = leaves[b];
        if (l == null) {
            l = leaves[b] = new long[LEAVES_PER_BRANCH];
        }
        l[segment % LEAVES_PER_BRANCH] ^= delta;
        branches[b] ^= delta;
        root ^= delta;
    }

    private static final long[] ZERO_LEAVES = new long[LEAVES_PER_BRANCH]; // never changed

    /** A branch's leaves as compared: a branch never written is all 0. */
    private static long[] orZero(long[] branchLeaves) {
        return branchLeaves == null ? ZERO_LEAVES : branchLeaves;
    }

    private long segment(int s) {
        long[] l = leaves[s / LEAVES_PER_BRANCH];
        return l == null ? 0 : l[s % LEAVES_PER_BRANCH];
    }

    public long root() {
        return root;
    }

    /** Whether every segment is 0 (no record, or records whose hashes cancel out: practically never). */
    public boolean isEmpty() {
        for (long b : branches) {
            if (b != 0) {
                return false;
            }
        }
        for (long[] l : leaves) {
            if (l != null) {
                for (long seg : l) {
                    if (seg != 0) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    public long[] branches() {
        return branches.clone();
    }

    /** The {@value #LEAVES_PER_BRANCH} segment hashes of branch {@code b}. */
    public long[] leaves(int b) {
        return leaves[b] == null ? new long[LEAVES_PER_BRANCH] : leaves[b].clone();
    }

    /** The indexes where two hash vectors of one level differ. */
    public static List<Integer> differing(long[] mine, long[] theirs) {
        if (mine.length != theirs.length) {
            throw new IllegalArgumentException("vectors of " + mine.length + " and " + theirs.length + " hashes");
        }
        List<Integer> d = new ArrayList<>();
        for (int i = 0; i < mine.length; i++) {
            if (mine[i] != theirs[i]) {
                d.add(i);
            }
        }
        return d;
    }

    /** The segments where this tree and {@code other} differ, found level by level as an exchange would. */
    public List<Integer> differingSegments(SegmentTree other) {
        List<Integer> out = new ArrayList<>();
        if (root == other.root) {
            return out;
        }
        for (int b : differing(branches, other.branches)) {
            for (int l : differing(leaves(b), other.leaves(b))) {
                out.add(b * LEAVES_PER_BRANCH + l);
            }
        }
        return out;
    }

    /** The tree as stored (so a restart does not force a rebuild), with a check hash over it. */
    public byte[] encode() {
        ByteBuffer out = ByteBuffer.allocate(ENCODED_BYTES);
        out.put(FORMAT);
        for (int s = 0; s < SEGMENTS; s++) {
            out.putLong(segment(s));
        }
        out.putLong(KeyHash.xxh64(out.array(), 0, ENCODED_BYTES - Long.BYTES, 0));
        return out.array();
    }

    /** A stored tree; anything but one {@link #encode} wrote is {@link CorruptRecordException} (then: rebuild from storage). */
    public static SegmentTree decode(byte[] bytes) {
        if (bytes.length != ENCODED_BYTES || bytes[0] != FORMAT) {
            throw new CorruptRecordException("not a stored segment tree (" + bytes.length + " bytes)");
        }
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            in.get();
            SegmentTree t = new SegmentTree();
            for (int s = 0; s < SEGMENTS; s++) {
                long h = in.getLong();
                if (h != 0) {
                    t.xor(s, h);
                }
            }
            if (in.getLong() != KeyHash.xxh64(bytes, 0, ENCODED_BYTES - Long.BYTES, 0)) {
                throw new CorruptRecordException("a stored segment tree fails its check hash");
            }
            return t;
        } catch (BufferUnderflowException e) {
            throw new CorruptRecordException("truncated segment tree");
        }
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof SegmentTree t)) {
            return false;
        }
        for (int b = 0; b < BRANCHES; b++) {
            if (!java.util.Arrays.equals(orZero(leaves[b]), orZero(t.leaves[b]))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(root);
    }
}
