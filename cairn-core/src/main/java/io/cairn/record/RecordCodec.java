package io.cairn.record;

import io.cairn.clock.Version;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The binary form of a {@link Record}, on disk and between nodes, with a CRC32C over key,
 * metadata and value.
 *
 * <p>Layout (big-endian):
 * <pre>
 *   u8  format (1)
 *   u8  flags: bit 0 tombstone, bit 1 has expiry, bit 2 has content type
 *   i64 version timestamp
 *   i32 version node id
 *   i64 expiry millis                     (if flag 1)
 *   u16 content type length, bytes UTF-8  (if flag 2)
 *   i32 value length, value bytes
 *   i32 CRC32C of (key bytes, every byte above)
 * </pre>
 * The checksum covers the key so that a record moved under the wrong key is detected too.
 */
public final class RecordCodec {
    static final byte FORMAT = 1;
    private static final int FLAG_TOMBSTONE = 1;
    private static final int FLAG_EXPIRY = 2;
    private static final int FLAG_CONTENT_TYPE = 4;
    private static final int MAX_CONTENT_TYPE_BYTES = 0xFFFF;

    private RecordCodec() {}

    public static byte[] encode(byte[] key, Record record) {
        byte[] contentType = record.contentType() == null ? null : record.contentType().getBytes(StandardCharsets.UTF_8);
        if (contentType != null && contentType.length > MAX_CONTENT_TYPE_BYTES) {
            throw new IllegalArgumentException("content type longer than " + MAX_CONTENT_TYPE_BYTES + " bytes");
        }
        int flags = (record.tombstone() ? FLAG_TOMBSTONE : 0)
                | (record.hasExpiry() ? FLAG_EXPIRY : 0)
                | (contentType != null ? FLAG_CONTENT_TYPE : 0);
        int size = 1 + 1 + 8 + 4
                + (record.hasExpiry() ? 8 : 0)
                + (contentType != null ? 2 + contentType.length : 0)
                + 4 + record.value().length + 4;
        ByteBuffer buf = ByteBuffer.allocate(size);
        buf.put(FORMAT).put((byte) flags);
        buf.putLong(record.version().timestamp()).putInt(record.version().nodeId());
        if (record.hasExpiry()) {
            buf.putLong(record.expiresAtMillis());
        }
        if (contentType != null) {
            buf.putShort((short) contentType.length).put(contentType);
        }
        buf.putInt(record.value().length).put(record.value());
        buf.putInt(checksum(key, buf.array(), size - 4));
        return buf.array();
    }

    /** Decodes and verifies; throws {@link CorruptRecordException} on any mismatch. */
    public static Record decode(byte[] key, byte[] bytes) {
        if (bytes.length < 1 + 1 + 8 + 4 + 4 + 4) {
            throw new CorruptRecordException("record of " + bytes.length + " bytes is too short");
        }
        int stored = ByteBuffer.wrap(bytes, bytes.length - 4, 4).getInt();
        int actual = checksum(key, bytes, bytes.length - 4);
        if (stored != actual) {
            throw new CorruptRecordException(String.format("checksum mismatch: stored %08x, computed %08x", stored, actual));
        }
        try {
            ByteBuffer buf = ByteBuffer.wrap(bytes, 0, bytes.length - 4);
            byte format = buf.get();
            if (format != FORMAT) {
                throw new CorruptRecordException("unknown record format " + format);
            }
            int flags = buf.get();
            if ((flags & ~(FLAG_TOMBSTONE | FLAG_EXPIRY | FLAG_CONTENT_TYPE)) != 0) {
                throw new CorruptRecordException(String.format("unknown record flags %02x", flags & 0xFF));
            }
            long timestamp = buf.getLong();
            int nodeId = buf.getInt();
            if (timestamp < 0 || nodeId < 0) {
                throw new CorruptRecordException("invalid version: timestamp " + timestamp + ", node " + nodeId);
            }
            long expiry = (flags & FLAG_EXPIRY) != 0 ? buf.getLong() : Record.NO_EXPIRY;
            if (expiry < 0) {
                throw new CorruptRecordException("negative expiry " + expiry);
            }
            String contentType = null;
            if ((flags & FLAG_CONTENT_TYPE) != 0) {
                int ctLength = Short.toUnsignedInt(buf.getShort());
                if (ctLength > buf.remaining()) {
                    throw new CorruptRecordException("content type length " + ctLength + " but " + buf.remaining() + " bytes remain");
                }
                byte[] ct = new byte[ctLength];
                buf.get(ct);
                contentType = new String(ct, StandardCharsets.UTF_8);
            }
            int length = buf.getInt();
            if (length != buf.remaining()) {
                throw new CorruptRecordException("value length " + length + " but " + buf.remaining() + " bytes remain");
            }
            boolean tombstone = (flags & FLAG_TOMBSTONE) != 0;
            if (tombstone && (length != 0 || contentType != null)) {
                throw new CorruptRecordException("a tombstone with a value or a content type");
            }
            byte[] value = new byte[length];
            buf.get(value);
            return new Record(new Version(timestamp, nodeId), expiry, tombstone, contentType, value);
        } catch (BufferUnderflowException e) {
            throw new CorruptRecordException("truncated record");
        }
    }

    private static int checksum(byte[] key, byte[] bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(key, 0, key.length);
        crc.update(bytes, 0, length);
        return (int) crc.getValue();
    }
}
