package io.cairn.record;

import io.cairn.clock.Version;
import java.util.Arrays;
import java.util.Objects;

/**
 * The stored state of one key: its value (opaque bytes), version, optional expiry, tombstone flag
 * and the content type the writer supplied.
 *
 * <p>A tombstone has an empty value and no content type. {@code expiresAtMillis} is an absolute
 * Unix time in milliseconds, or {@link #NO_EXPIRY}.
 */
public record Record(Version version, long expiresAtMillis, boolean tombstone, String contentType, byte[] value) {
    public static final long NO_EXPIRY = 0L;

    public Record {
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(value, "value");
        if (expiresAtMillis < 0) {
            throw new IllegalArgumentException("negative expiry " + expiresAtMillis);
        }
        if (tombstone && (value.length != 0 || contentType != null)) {
            throw new IllegalArgumentException("a tombstone carries no value");
        }
    }

    public static Record value(Version version, long expiresAtMillis, String contentType, byte[] value) {
        return new Record(version, expiresAtMillis, false, contentType, value);
    }

    public static Record tombstone(Version version) {
        return new Record(version, NO_EXPIRY, true, null, new byte[0]);
    }

    public boolean hasExpiry() {
        return expiresAtMillis != NO_EXPIRY;
    }

    /** Expired from the first millisecond after its expiry: at {@code expiresAt} it is gone. */
    /**
     * When a record may be purged: its deletion time (a tombstone) or expiry, plus
     * {@code graceMillis}, saturating; -1 for a live record without expiry, which never is.
     */
    public static long purgeAtMillis(boolean tombstone, Version version, long expiresAtMillis, long graceMillis) {
        long base = tombstone ? version.physicalMillis() : expiresAtMillis != NO_EXPIRY ? expiresAtMillis : -1;
        if (base < 0) {
            return -1;
        }
        return base > Long.MAX_VALUE - graceMillis ? Long.MAX_VALUE : base + graceMillis;
    }

    /** When this record may be purged; see {@link #purgeAtMillis(boolean, Version, long, long)}. */
    public long purgeAtMillis(long graceMillis) {
        return purgeAtMillis(tombstone, version, expiresAtMillis, graceMillis);
    }

    public boolean isExpiredAt(long nowMillis) {
        return hasExpiry() && nowMillis >= expiresAtMillis;
    }

    /** Live: neither deleted nor expired; the only state a reader may see. */
    public boolean isLiveAt(long nowMillis) {
        return !tombstone && !isExpiredAt(nowMillis);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Record r
                && version.equals(r.version)
                && expiresAtMillis == r.expiresAtMillis
                && tombstone == r.tombstone
                && Objects.equals(contentType, r.contentType)
                && Arrays.equals(value, r.value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(version, expiresAtMillis, tombstone, contentType) * 31 + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "Record[" + version + (tombstone ? ", tombstone" : ", " + value.length + " bytes")
                + (hasExpiry() ? ", expires " + expiresAtMillis : "") + "]";
    }
}
