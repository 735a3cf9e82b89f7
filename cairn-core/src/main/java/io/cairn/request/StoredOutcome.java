package io.cairn.request;

import io.cairn.error.ErrorCode;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.RecordCodec;
import io.cairn.clock.Version;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The first outcome of an idempotent request, as kept for retries: the request fingerprint, when
 * the record may be dropped, and the per-operation results, with a CRC32C like every record.
 *
 * @param versions on a cluster, the versions the request's writes were stamped with before they
 *                 ran, in request order (empty when they are stamped as they run): a retry that
 *                 takes over an unfinished claim writes the same records again, so a write runs at
 *                 most once whatever happened to the first attempt
 */
public record StoredOutcome(byte[] fingerprint, long expiresAtMillis, List<OpResult> results, List<Version> versions) {
    private static final byte FORMAT = 1;
    private static final byte FORMAT_WITH_VERSIONS = 2;
    private static final byte[] NO_KEY = new byte[0];
    private static final int MAX_MESSAGE_CHARS = 1000;
    /** The most versions a claim carries (one per write of a request). */
    public static final int MAX_VERSIONS = 0xFFFF;

    public StoredOutcome {
        results = List.copyOf(results);
        versions = List.copyOf(versions);
        if (versions.size() > MAX_VERSIONS) {
            throw new IllegalArgumentException(versions.size() + " versions, more than " + MAX_VERSIONS);
        }
    }

    public StoredOutcome(byte[] fingerprint, long expiresAtMillis, List<OpResult> results) {
        this(fingerprint, expiresAtMillis, results, List.of());
    }

    /**
     * A claim on an idempotency key (on a cluster): the request is running and has no results yet;
     * the claim lapses at {@code expiresAtMillis}. Every finished request has at least one result.
     */
    public static StoredOutcome claim(byte[] fingerprint, long expiresAtMillis) {
        return claim(fingerprint, expiresAtMillis, List.of());
    }

    /** A {@link #claim} whose writes were stamped with {@code versions} before they ran. */
    public static StoredOutcome claim(byte[] fingerprint, long expiresAtMillis, List<Version> versions) {
        return new StoredOutcome(fingerprint, expiresAtMillis, List.of(), versions);
    }

    /** Whether this is a {@link #claim}, not a finished request's outcome. */
    public boolean isClaim() {
        return results.isEmpty();
    }

    public byte[] encode(byte[] storageKey) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(versions.isEmpty() ? FORMAT : FORMAT_WITH_VERSIONS);
            out.writeByte(fingerprint.length);
            out.write(fingerprint);
            out.writeLong(expiresAtMillis);
            out.writeShort(results.size());
            for (OpResult r : results) {
                switch (r) {
                    case OpResult.Written w -> {
                        out.writeByte(1);
                        writeVersion(out, w.version());
                        out.writeLong(w.expiresAtMillis());
                    }
                    case OpResult.Deleted d -> {
                        out.writeByte(2);
                        writeVersion(out, d.version());
                    }
                    case OpResult.PreconditionFailed p -> {
                        out.writeByte(3);
                        out.writeBoolean(p.current() != null);
                        if (p.current() != null) {
                            writeVersion(out, p.current());
                        }
                    }
                    case OpResult.Found f -> {
                        out.writeByte(4);
                        byte[] record = RecordCodec.encode(NO_KEY, f.record());
                        out.writeInt(record.length);
                        out.write(record);
                    }
                    case OpResult.NotFound n -> out.writeByte(5);
                    case OpResult.Superseded sup -> {
                        out.writeByte(7);
                        writeVersion(out, sup.current());
                    }
                    case OpResult.Failed f -> {
                        out.writeByte(6);
                        writeUtf(out, f.code().name());
                        String message = f.message().length() > MAX_MESSAGE_CHARS ? f.message().substring(0, MAX_MESSAGE_CHARS) : f.message();
                        writeUtf(out, message);
                    }
                }
            }
            if (!versions.isEmpty()) {
                out.writeShort(versions.size());
                for (Version v : versions) {
                    writeVersion(out, v);
                }
            }
            out.flush();
            CRC32C crc = new CRC32C();
            crc.update(storageKey);
            crc.update(bytes.toByteArray());
            out.writeInt((int) crc.getValue());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * Decodes and verifies a stored outcome; throws {@link CorruptRecordException} for every way
     * the bytes can be wrong, and nothing else a caller would mistake for corruption.
     */
    public static StoredOutcome decode(byte[] storageKey, byte[] bytes) {
        if (bytes.length < 8) {
            throw new CorruptRecordException("idempotency record too short");
        }
        CRC32C crc = new CRC32C();
        crc.update(storageKey);
        crc.update(bytes, 0, bytes.length - 4);
        int stored = ByteBuffer.wrap(bytes, bytes.length - 4, 4).getInt();
        if ((int) crc.getValue() != stored) {
            throw new CorruptRecordException("idempotency record checksum mismatch");
        }
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes, 0, bytes.length - 4);
            byte format = in.get();
            if (format != FORMAT && format != FORMAT_WITH_VERSIONS) {
                throw new CorruptRecordException("unknown idempotency record format");
            }
            byte[] fingerprint = new byte[in.get() & 0xFF];
            in.get(fingerprint);
            long expires = in.getLong();
            int count = Short.toUnsignedInt(in.getShort());
            List<OpResult> results = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                int kind = in.get();
                results.add(switch (kind) {
                    case 1 -> new OpResult.Written(readVersion(in), in.getLong());
                    case 2 -> new OpResult.Deleted(readVersion(in));
                    case 3 -> new OpResult.PreconditionFailed(in.get() != 0 ? readVersion(in) : null);
                    case 4 -> {
                        int length = in.getInt();
                        if (length < 0 || length > in.remaining()) {
                            throw new CorruptRecordException("found record of " + length + " bytes but " + in.remaining() + " remain");
                        }
                        byte[] record = new byte[length];
                        in.get(record);
                        yield new OpResult.Found(RecordCodec.decode(NO_KEY, record));
                    }
                    case 5 -> new OpResult.NotFound();
                    case 6 -> new OpResult.Failed(errorCode(readUtf(in)), readUtf(in));
                    case 7 -> new OpResult.Superseded(readVersion(in));
                    default -> throw new CorruptRecordException("unknown result kind " + kind);
                });
            }
            List<Version> versions = new ArrayList<>();
            if (format == FORMAT_WITH_VERSIONS) {
                int n = Short.toUnsignedInt(in.getShort());
                if (n == 0) {
                    throw new CorruptRecordException("an idempotency record of the versions format without versions");
                }
                for (int i = 0; i < n; i++) {
                    versions.add(readVersion(in));
                }
            }
            if (in.hasRemaining()) {
                throw new CorruptRecordException(in.remaining() + " trailing bytes in an idempotency record");
            }
            return new StoredOutcome(fingerprint, expires, results, versions);
        } catch (BufferUnderflowException e) {
            throw new CorruptRecordException("truncated idempotency record");
        } catch (IllegalArgumentException e) {
            // A field out of its range: a negative version timestamp or node id.
            throw new CorruptRecordException("undecodable idempotency record: " + e.getMessage());
        }
    }

    private static ErrorCode errorCode(String name) {
        for (ErrorCode c : ErrorCode.values()) {
            if (c.name().equals(name)) {
                return c;
            }
        }
        throw new CorruptRecordException("unknown error code " + name);
    }

    private static void writeVersion(DataOutputStream out, Version v) throws IOException {
        out.writeLong(v.timestamp());
        out.writeInt(v.nodeId());
    }

    private static Version readVersion(ByteBuffer in) {
        return new Version(in.getLong(), in.getInt());
    }

    private static void writeUtf(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeShort(b.length);
        out.write(b);
    }

    private static String readUtf(ByteBuffer in) {
        byte[] b = new byte[Short.toUnsignedInt(in.getShort())];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
