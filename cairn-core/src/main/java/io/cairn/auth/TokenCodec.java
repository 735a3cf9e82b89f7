package io.cairn.auth;

import io.cairn.record.CorruptRecordException;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The stored form of tokens and of their revocation and early-end markers. Every field is
 * checked on decode, as for any record read back from a disk or a peer: a value that does not
 * decode to a valid token is {@link CorruptRecordException}, and the caller refuses the
 * credential rather than guessing.
 *
 * <pre>
 * token:  'T' 1 | id (8) | name (u8 len, UTF-8) | secret hash (32) | roles (u8 count, each u8 len, ASCII)
 *         | created at (i64 ms) | expires at (i64 ms, 0 never) | created by (u8 len, ASCII)
 * marker: 'R' or 'E' 1 | at (i64 ms) | by (u8 len, ASCII)
 * </pre>
 */
public final class TokenCodec {
    private static final byte TOKEN = 'T';
    private static final byte REVOKED = 'R';
    private static final byte ENDS = 'E';
    private static final byte VERSION = 1;

    private TokenCodec() {}

    /** A revocation ({@code REVOKED}) or an early end set by a rotation ({@code ENDS}). */
    public record Marker(long atMillis, String by) {
        public Marker {
            if (atMillis < 0 || by.isEmpty() || by.length() > 128 || !by.chars().allMatch(c -> c >= ' ' && c <= '~')) {
                throw new IllegalArgumentException("a marker has a time and a printable author");
            }
        }
    }

    public static byte[] encode(Token t) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(160);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(TOKEN);
            out.writeByte(VERSION);
            out.write(HexFormat.of().parseHex(t.id()));
            writeShort(out, t.name());
            out.write(t.secretHash());
            out.writeByte(t.roles().size());
            for (Role r : t.roles()) {
                writeShort(out, r.toString());
            }
            out.writeLong(t.createdAtMillis());
            out.writeLong(t.expiresAtMillis());
            writeShort(out, t.createdBy());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    public static Token decode(byte[] bytes) {
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            header(in, TOKEN);
            byte[] id = new byte[Credential.ID_BYTES];
            in.get(id);
            String name = readShort(in);
            byte[] hash = new byte[32];
            in.get(hash);
            int count = in.get() & 0xFF;
            List<Role> roles = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                roles.add(Role.parse(readShort(in)));
            }
            long created = in.getLong();
            long expires = in.getLong();
            String by = readShort(in);
            end(in);
            return new Token(HexFormat.of().formatHex(id), name, hash, roles, created, expires, by);
        } catch (BufferUnderflowException e) {
            throw new CorruptRecordException("truncated token record");
        } catch (IllegalArgumentException e) {
            throw new CorruptRecordException("invalid token record: " + e.getMessage());
        }
    }

    public static byte[] encodeRevoked(Marker m) {
        return encodeMarker(REVOKED, m);
    }

    public static byte[] encodeEnds(Marker m) {
        return encodeMarker(ENDS, m);
    }

    public static Marker decodeRevoked(byte[] bytes) {
        return decodeMarker(REVOKED, bytes);
    }

    public static Marker decodeEnds(byte[] bytes) {
        return decodeMarker(ENDS, bytes);
    }

    private static byte[] encodeMarker(byte kind, Marker m) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(32);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(kind);
            out.writeByte(VERSION);
            out.writeLong(m.atMillis());
            writeShort(out, m.by());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static Marker decodeMarker(byte kind, byte[] bytes) {
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            header(in, kind);
            long at = in.getLong();
            String by = readShort(in);
            end(in);
            return new Marker(at, by);
        } catch (BufferUnderflowException e) {
            throw new CorruptRecordException("truncated token marker");
        } catch (IllegalArgumentException e) {
            throw new CorruptRecordException("invalid token marker: " + e.getMessage());
        }
    }

    private static void header(ByteBuffer in, byte kind) {
        byte k = in.get();
        byte v = in.get();
        if (k != kind || v != VERSION) {
            throw new CorruptRecordException("not a token entry of kind " + (char) kind + " version " + VERSION);
        }
    }

    private static void end(ByteBuffer in) {
        if (in.hasRemaining()) {
            throw new CorruptRecordException(in.remaining() + " trailing bytes after a token entry");
        }
    }

    private static void writeShort(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > 255) {
            throw new IllegalArgumentException("field longer than 255 bytes");
        }
        out.writeByte(b.length);
        out.write(b);
    }

    private static String readShort(ByteBuffer in) {
        int len = in.get() & 0xFF;
        byte[] b = new byte[len];
        in.get(b);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new CorruptRecordException("a token field is not UTF-8");
        }
    }
}
