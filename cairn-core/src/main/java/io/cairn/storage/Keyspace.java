package io.cairn.storage;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The layout of every key Cairn stores, one leading byte per keyspace.
 *
 * <pre>
 *   'd' | namespace id (u32) | partition (u16) | user key     a record
 *   'x' | due millis (u64)   | storage key                    expiry index entry
 *   'i' | namespace id (u32) | idempotency key (UTF-8)        a stored request outcome
 *   'm' | name (ASCII)                                        node metadata
 *   'q' | storage key                                         a quarantined corrupt record's bytes
 *   'p' | namespace id (u32) | partition (u16) | user key     a key's Paxos state (promise, accepted proposal, last commit)
 * </pre>
 * All integers are big-endian so that byte order is numeric order: a partition is one contiguous
 * range, and the expiry index is sorted by due time.
 */
public final class Keyspace {
    public static final byte DATA = 'd';
    public static final byte EXPIRY = 'x';
    public static final byte IDEMPOTENCY = 'i';
    public static final byte META = 'm';
    public static final byte QUARANTINE = 'q';
    public static final byte PAXOS = 'p';
    static final int DATA_HEADER = 1 + 4 + 2;

    private Keyspace() {}

    public static byte[] data(int namespaceId, int partition, byte[] userKey) {
        return ByteBuffer.allocate(DATA_HEADER + userKey.length)
                .put(DATA).putInt(namespaceId).putShort((short) partition).put(userKey).array();
    }

    /** The first key of a partition's range. */
    public static byte[] partitionStart(int namespaceId, int partition) {
        return ByteBuffer.allocate(DATA_HEADER).put(DATA).putInt(namespaceId).putShort((short) partition).array();
    }

    /** The first key after a partition's range. */
    public static byte[] partitionEnd(int namespaceId, int partition) {
        if (partition == 0xFFFF) {
            return ByteBuffer.allocate(1 + 4).put(DATA).putInt(namespaceId + 1).array();
        }
        return partitionStart(namespaceId, partition + 1);
    }

    public static int namespaceOf(byte[] dataKey) {
        return ByteBuffer.wrap(dataKey, 1, 4).getInt();
    }

    public static int partitionOf(byte[] dataKey) {
        return ByteBuffer.wrap(dataKey, 5, 2).getShort() & 0xFFFF;
    }

    /** The first key of the data keyspace, and the first after it. */
    public static byte[] dataStart() {
        return new byte[] {DATA};
    }

    public static byte[] dataEnd() {
        return new byte[] {DATA + 1};
    }

    public static byte[] quarantine(byte[] storageKey) {
        return ByteBuffer.allocate(1 + storageKey.length).put(QUARANTINE).put(storageKey).array();
    }

    public static byte[] quarantineStart() {
        return new byte[] {QUARANTINE};
    }

    public static byte[] quarantineEnd() {
        return new byte[] {QUARANTINE + 1};
    }

    public static byte[] userKeyOf(byte[] dataKey) {
        return Arrays.copyOfRange(dataKey, DATA_HEADER, dataKey.length);
    }

    public static byte[] expiry(long dueMillis, byte[] storageKey) {
        return ByteBuffer.allocate(1 + 8 + storageKey.length).put(EXPIRY).putLong(dueMillis).put(storageKey).array();
    }

    public static byte[] expiryStart() {
        return new byte[] {EXPIRY};
    }

    /** The first expiry index key whose due time is after {@code millis}. */
    public static byte[] expiryAfter(long millis) {
        return ByteBuffer.allocate(1 + 8).put(EXPIRY).putLong(millis + 1).array();
    }

    public static long expiryDueMillis(byte[] expiryKey) {
        return ByteBuffer.wrap(expiryKey, 1, 8).getLong();
    }

    public static byte[] expiryTarget(byte[] expiryKey) {
        return Arrays.copyOfRange(expiryKey, 9, expiryKey.length);
    }

    public static byte[] idempotency(int namespaceId, String key) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(1 + 4 + k.length).put(IDEMPOTENCY).putInt(namespaceId).put(k).array();
    }

    public static byte[] idempotencyStart() {
        return new byte[] {IDEMPOTENCY};
    }

    public static byte[] idempotencyEnd() {
        return new byte[] {IDEMPOTENCY + 1};
    }

    /** Where a key's Paxos state lives: laid out like its record, so a partition's states are one range. */
    public static byte[] paxos(int namespaceId, int partition, byte[] userKey) {
        return ByteBuffer.allocate(DATA_HEADER + userKey.length)
                .put(PAXOS).putInt(namespaceId).putShort((short) partition).put(userKey).array();
    }

    /** The first key of a partition's Paxos states. */
    public static byte[] paxosStart(int namespaceId, int partition) {
        return ByteBuffer.allocate(DATA_HEADER).put(PAXOS).putInt(namespaceId).putShort((short) partition).array();
    }

    /** The first key after a partition's Paxos states. */
    public static byte[] paxosEnd(int namespaceId, int partition) {
        if (partition == 0xFFFF) {
            return ByteBuffer.allocate(1 + 4).put(PAXOS).putInt(namespaceId + 1).array();
        }
        return paxosStart(namespaceId, partition + 1);
    }

    public static byte[] meta(String name) {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocate(1 + n.length).put(META).put(n).array();
    }
}
