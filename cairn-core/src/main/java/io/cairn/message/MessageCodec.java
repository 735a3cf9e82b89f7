package io.cairn.message;

import io.cairn.invariant.Invariant;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.cairn.record.RecordCodec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The binary form of a {@link Message}. Records travel in their checksummed {@link RecordCodec}
 * form, so a record damaged in transit is detected by the receiver like one damaged on disk.
 *
 * <pre>
 *   u8 type | fields (big-endian; byte strings and texts as i32 length + bytes, -1 for null)
 *   7 HintedWrite: i64 request id | u16 target node id | i32 namespace id | key | record
 * </pre>
 *
 * <p>The type byte versions each message: a new message takes a new type, and a node that does
 * not know a type rejects it as malformed rather than guessing.
 */
public final class MessageCodec {
    private static final byte WRITE_REQUEST = 1;
    private static final byte WRITE_RESPONSE = 2;
    private static final byte READ_REQUEST = 3;
    private static final byte READ_RESPONSE = 4;
    private static final byte PING = 5;
    private static final byte PONG = 6;
    private static final byte HINTED_WRITE = 7;
    private static final int MAX_NODE_ID = 0xFFFF;
    private static final int MAX_FIELD_BYTES = 64 << 20;

    private MessageCodec() {}

    public static byte[] encode(Message m) {
        return switch (m) {
            case Message.WriteRequest w -> {
                byte[] record = RecordCodec.encode(w.key(), w.record());
                yield alloc(1 + 8 + 4 + 4 + w.key().length + 4 + record.length).put(WRITE_REQUEST)
                        .putLong(w.requestId()).putInt(w.namespaceId()).putInt(w.key().length).put(w.key())
                        .putInt(record.length).put(record).array();
            }
            case Message.HintedWrite h -> {
                Invariant.check(h.target() >= 1 && h.target() <= MAX_NODE_ID, "hint target %d is not a node id", h.target());
                byte[] record = RecordCodec.encode(h.key(), h.record());
                yield alloc(1 + 8 + 2 + 4 + 4 + h.key().length + 4 + record.length).put(HINTED_WRITE)
                        .putLong(h.requestId()).putShort((short) h.target()).putInt(h.namespaceId())
                        .putInt(h.key().length).put(h.key()).putInt(record.length).put(record).array();
            }
            case Message.WriteResponse w -> {
                byte[] error = text(w.error());
                yield alloc(1 + 8 + 1 + 4 + len(error)).put(WRITE_RESPONSE).putLong(w.requestId())
                        .put((byte) (w.stored() ? 1 : 0)).putInt(error == null ? -1 : error.length).put(orEmpty(error)).array();
            }
            case Message.ReadRequest r -> alloc(1 + 8 + 4 + 4 + r.key().length).put(READ_REQUEST)
                    .putLong(r.requestId()).putInt(r.namespaceId()).putInt(r.key().length).put(r.key()).array();
            case Message.ReadResponse r -> {
                // The key is not repeated: the checksum is computed over an empty key, and the
                // requester re-verifies the record under the key it asked for when it stores it.
                byte[] record = r.record() == null ? null : RecordCodec.encode(new byte[0], r.record());
                byte[] error = text(r.error());
                yield alloc(1 + 8 + 4 + len(record) + 4 + len(error)).put(READ_RESPONSE).putLong(r.requestId())
                        .putInt(record == null ? -1 : record.length).put(orEmpty(record))
                        .putInt(error == null ? -1 : error.length).put(orEmpty(error)).array();
            }
            case Message.Ping p -> alloc(9).put(PING).putLong(p.sequence()).array();
            case Message.Pong p -> alloc(9).put(PONG).putLong(p.sequence()).array();
        };
    }

    /** Decodes; a malformed message or a record failing its checksum throws {@link CorruptRecordException}. */
    public static Message decode(byte[] bytes) {
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            byte type = in.get();
            Message m = switch (type) {
                case WRITE_REQUEST -> {
                    long id = in.getLong();
                    int ns = in.getInt();
                    byte[] key = bytes(in);
                    Record record = RecordCodec.decode(key, bytes(in));
                    yield new Message.WriteRequest(id, ns, key, record);
                }
                case HINTED_WRITE -> {
                    long id = in.getLong();
                    int target = Short.toUnsignedInt(in.getShort());
                    if (target == 0) {
                        throw new CorruptRecordException("hint target 0 is not a node id");
                    }
                    int ns = in.getInt();
                    byte[] key = bytes(in);
                    Record record = RecordCodec.decode(key, bytes(in));
                    yield new Message.HintedWrite(id, target, ns, key, record);
                }
                case WRITE_RESPONSE -> new Message.WriteResponse(in.getLong(), in.get() != 0, string(in));
                case READ_REQUEST -> new Message.ReadRequest(in.getLong(), in.getInt(), bytes(in));
                case READ_RESPONSE -> {
                    long id = in.getLong();
                    byte[] record = nullableBytes(in);
                    yield new Message.ReadResponse(id, record == null ? null : RecordCodec.decode(new byte[0], record), string(in));
                }
                case PING -> new Message.Ping(in.getLong());
                case PONG -> new Message.Pong(in.getLong());
                default -> throw new CorruptRecordException("unknown message type " + type);
            };
            if (in.hasRemaining()) {
                throw new CorruptRecordException(in.remaining() + " trailing bytes after message type " + type);
            }
            return m;
        } catch (java.nio.BufferUnderflowException | IllegalArgumentException e) {
            throw new CorruptRecordException("malformed message: " + e);
        }
    }

    private static ByteBuffer alloc(int size) {
        return ByteBuffer.allocate(size);
    }

    private static byte[] text(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    private static int len(byte[] b) {
        return b == null ? 0 : b.length;
    }

    private static byte[] orEmpty(byte[] b) {
        return b == null ? new byte[0] : b;
    }

    private static byte[] bytes(ByteBuffer in) {
        byte[] b = nullableBytes(in);
        if (b == null) {
            throw new CorruptRecordException("missing field");
        }
        return b;
    }

    private static byte[] nullableBytes(ByteBuffer in) {
        int n = in.getInt();
        if (n == -1) {
            return null;
        }
        if (n < 0 || n > MAX_FIELD_BYTES || n > in.remaining()) {
            throw new CorruptRecordException("bad field length " + n);
        }
        byte[] b = new byte[n];
        in.get(b);
        return b;
    }

    private static String string(ByteBuffer in) {
        byte[] b = nullableBytes(in);
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }
}
