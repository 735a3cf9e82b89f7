package io.cairn.antientropy;

import io.cairn.clock.Version;
import io.cairn.record.Record;
import java.util.Objects;

/**
 * What a replica holds under one key, as an exchange lists it: enough to decide which side is
 * newer without the value. {@code version} is null for a copy that fails its checksum (then only
 * {@code hash}, {@link TreeKeeper#corruptHash}, is meaningful). {@code valueBytes} is what moving
 * the record would cost, for the repair backlog.
 */
public record KeyVersion(byte[] key, Version version, boolean tombstone, long expiresAtMillis, long hash, int valueBytes) {
    public KeyVersion {
        Objects.requireNonNull(key);
        if (valueBytes < 0) {
            throw new IllegalArgumentException("negative value size");
        }
    }

    public static KeyVersion of(byte[] key, Record r) {
        return new KeyVersion(key, r.version(), r.tombstone(), r.expiresAtMillis(), SegmentTree.entryHash(key, r), r.tombstone() ? 0 : r.value().length);
    }

    public static KeyVersion corrupt(byte[] key, byte[] raw) {
        return new KeyVersion(key, null, false, Record.NO_EXPIRY, TreeKeeper.corruptHash(raw), raw.length);
    }

    public boolean corrupt() {
        return version == null;
    }

    /**
     * Whether this copy is a tombstone or an expired record past the point where it may be purged
     * ({@code graceMillis} after its deletion or expiry): an exchange neither copies it to a
     * replica that holds nothing under the key nor fetches it from one.
     */
    public boolean purgeableAt(long nowMillis, long graceMillis) {
        long at = version == null ? -1 : Record.purgeAtMillis(tombstone, version, expiresAtMillis, graceMillis);
        return at >= 0 && at <= nowMillis;
    }

    /** The key's bytes as they travel and count against a listing's bound. */
    public int weight() {
        return key.length + 32;
    }
}
