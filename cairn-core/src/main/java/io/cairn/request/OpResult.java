package io.cairn.request;

import io.cairn.error.ErrorCode;
import io.cairn.record.Record;
import io.cairn.version.Version;

/** What happened to one {@link Op}; front ends render these, and idempotency stores them. */
public sealed interface OpResult {
    /** Whether a replica write left the replica durably holding this version or a newer one. */
    static boolean stored(OpResult r) {
        return r instanceof Written || r instanceof Deleted || r instanceof Superseded;
    }

    /** A put was stored with this version. */
    record Written(Version version, long expiresAtMillis) implements OpResult {}

    /** A delete stored a tombstone with this version. */
    record Deleted(Version version) implements OpResult {}

    /** A condition did not hold; {@code current} is the live version, or null when there is none. */
    record PreconditionFailed(Version current) implements OpResult {}

    /** A get found a live record. */
    record Found(Record record) implements OpResult {}

    /** A get found nothing live: missing, deleted or expired. */
    record NotFound() implements OpResult {}

    /** A replica write was not needed: the replica already holds this version or a newer one. */
    record Superseded(Version current) implements OpResult {}

    /** The operation failed with an operating error and changed nothing. */
    record Failed(ErrorCode code, String message) implements OpResult {}
}
