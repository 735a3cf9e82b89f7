package io.cairn.cluster;

import io.cairn.record.Record;

/**
 * A write a replica missed, kept by its coordinator (or, under sloppy quorum, by a fallback node)
 * until it can be handed off.
 *
 * @param storageKey where the hint itself is stored (to delete it after hand-off)
 */
record Hint(byte[] storageKey, int target, long createdMillis, int namespaceId, byte[] key, Record record) {
    public long bytes() {
        return storageKey.length + key.length + record.value().length + 32L;
    }
}
