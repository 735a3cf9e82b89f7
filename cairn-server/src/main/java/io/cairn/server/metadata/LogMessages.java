package io.cairn.server.metadata;

import io.cairn.metadata.ClusterMetadata;
import io.cairn.metadata.ClusterState;
import io.cairn.metadata.MetadataCodec;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The bytes the metadata group's members and clients exchange besides log entries (which are
 * {@link MetadataCodec} commands): the outcome of an applied entry, and the state query a member
 * without a log server polls with.
 *
 * <pre>
 *   outcome:  u8 refused | (refused: u8 kind | u16 length + UTF-8 message) | i32 length + state (0: not sent)
 *   query:    u8 'S' | i64 epoch the asker has
 *   answer:   u8 newer | (newer: state)
 * </pre>
 * Only the leader's outcome reaches a client, so only the leader encodes the state into it; the
 * other members answer the same outcome without it.
 */
final class LogMessages {
    private static final byte STATE_QUERY = 'S';
    private static final int MAX_MESSAGE_BYTES = 4096;

    private LogMessages() {}

    /** A reply that is not one of these forms: the sender is not a Cairn metadata member, or a broken one. */
    static final class MalformedReplyException extends RuntimeException {
        MalformedReplyException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    static byte[] outcome(ClusterMetadata.Result result, boolean withState) {
        byte[] state = withState ? MetadataCodec.encode(result.state()) : new byte[0];
        byte[] message = result.refused() ? truncated(result.refusal().message()) : new byte[0];
        ByteBuffer out = ByteBuffer.allocate(1 + (result.refused() ? 3 + message.length : 0) + 4 + state.length);
        out.put((byte) (result.refused() ? 1 : 0));
        if (result.refused()) {
            out.put((byte) result.refusal().kind().ordinal());
            out.putShort((short) message.length);
            out.put(message);
        }
        out.putInt(state.length);
        out.put(state);
        return out.array();
    }

    /** The outcome with its state; the caller asked the leader, which always sends it. */
    static ClusterMetadata.Result decodeOutcome(byte[] bytes) {
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            ClusterMetadata.Refusal refusal = null;
            if (in.get() != 0) {
                int kind = in.get() & 0xFF;
                if (kind >= ClusterMetadata.Refusal.Kind.values().length) {
                    throw new IllegalArgumentException("unknown refusal kind " + kind);
                }
                byte[] message = new byte[in.getShort() & 0xFFFF];
                in.get(message);
                refusal = new ClusterMetadata.Refusal(ClusterMetadata.Refusal.Kind.values()[kind], new String(message, StandardCharsets.UTF_8));
            }
            int length = in.getInt();
            if (length <= 0 || length != in.remaining()) {
                throw new IllegalArgumentException("state of " + length + " bytes in an outcome of " + bytes.length);
            }
            ClusterState state = MetadataCodec.decodeState(Arrays.copyOfRange(bytes, in.position(), bytes.length));
            return new ClusterMetadata.Result(state, refusal);
        } catch (BufferUnderflowException | IllegalArgumentException | MetadataCodec.MetadataCodecException e) {
            throw new MalformedReplyException("malformed metadata outcome of " + bytes.length + " bytes: " + e.getMessage(), e);
        }
    }

    static byte[] stateQuery(long knownEpoch) {
        return ByteBuffer.allocate(9).put(STATE_QUERY).putLong(knownEpoch).array();
    }

    /** The epoch a state query names, or -1 when the bytes are not a state query. */
    static long decodeStateQuery(byte[] bytes) {
        if (bytes.length != 9 || bytes[0] != STATE_QUERY) {
            return -1;
        }
        return Math.max(0, ByteBuffer.wrap(bytes, 1, 8).getLong());
    }

    /** The answer to a state query: the state when it is newer than {@code knownEpoch}, else nothing. */
    static byte[] stateAnswer(ClusterState state, long knownEpoch) {
        if (state.epoch() <= knownEpoch) {
            return new byte[] {0};
        }
        byte[] encoded = MetadataCodec.encode(state);
        byte[] out = new byte[1 + encoded.length];
        out[0] = 1;
        System.arraycopy(encoded, 0, out, 1, encoded.length);
        return out;
    }

    /** The newer state in an answer, or null when the member had none. */
    static ClusterState decodeStateAnswer(byte[] bytes) {
        try {
            if (bytes.length == 1 && bytes[0] == 0) {
                return null;
            }
            if (bytes.length < 2 || bytes[0] != 1) {
                throw new IllegalArgumentException("not a state answer");
            }
            return MetadataCodec.decodeState(Arrays.copyOfRange(bytes, 1, bytes.length));
        } catch (IllegalArgumentException | MetadataCodec.MetadataCodecException e) {
            throw new MalformedReplyException("malformed state answer of " + bytes.length + " bytes: " + e.getMessage(), e);
        }
    }

    private static byte[] truncated(String message) {
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_MESSAGE_BYTES) {
            return bytes;
        }
        // Cut on a character boundary so the receiver decodes valid UTF-8.
        String cut = message;
        while (bytes.length > MAX_MESSAGE_BYTES) {
            cut = cut.substring(0, cut.length() * 3 / 4);
            bytes = cut.getBytes(StandardCharsets.UTF_8);
        }
        return bytes;
    }
}
