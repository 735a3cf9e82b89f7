package io.cairn.client;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A live value as a read returned it: its bytes, content type, version (an opaque, quoted ETag
 * such as {@code "01a2207c01ad0000-1"}; equal ETags mean the same version) and expiry.
 */
public final class Value {
    private final String key;
    private final byte[] bytes;
    private final String contentType;
    private final String etag;
    private final Instant expiresAt;

    Value(String key, byte[] bytes, String contentType, String etag, Instant expiresAt) {
        this.key = Objects.requireNonNull(key);
        this.bytes = Objects.requireNonNull(bytes);
        this.contentType = contentType == null ? "application/octet-stream" : contentType;
        this.etag = etag;
        this.expiresAt = expiresAt;
    }

    /** The key, as the application named it. */
    public String key() {
        return key;
    }

    /** A copy of the value's bytes. */
    public byte[] bytes() {
        return bytes.clone();
    }

    /** The value's bytes without a copy, read-only. */
    public ByteBuffer asByteBuffer() {
        return ByteBuffer.wrap(bytes).asReadOnlyBuffer();
    }

    /** The bytes decoded as UTF-8 (malformed input replaced). */
    public String asString() {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** How many bytes the value holds. */
    public int size() {
        return bytes.length;
    }

    /** The stored content type; {@code application/octet-stream} when none was stored. */
    public String contentType() {
        return contentType;
    }

    /** The version as an opaque, quoted ETag: pass it to {@link WriteOptions#ifMatch(String)}. */
    public String etag() {
        return etag;
    }

    /** When the value expires, if it does. */
    public Optional<Instant> expiresAt() {
        return Optional.ofNullable(expiresAt);
    }

    @Override
    public String toString() {
        return "Value[" + key + ", " + bytes.length + " bytes, " + contentType + ", " + etag + (expiresAt == null ? "" : ", expires " + expiresAt) + "]";
    }
}
