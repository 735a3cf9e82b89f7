package io.cairn.request;

import io.cairn.error.ErrorCode;
import io.cairn.record.Record;
import io.cairn.clock.Version;
import java.util.Map;

/**
 * What happened to one {@link Op}, on a single node or a cluster alike; front ends render these,
 * idempotency stores them. On a cluster, {@link Answer} adds how many replicas took part.
 */
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

    /**
     * The operation failed with an operating error; {@code details} carry figures such as how
     * many replicas were reachable. Whether it changed anything is the code's to say:
     * {@code outcome_unknown} may have been applied, every other code changed nothing.
     */
    record Failed(ErrorCode code, String message, Map<String, Object> details) implements OpResult {
        public Failed {
            details = Map.copyOf(details);
        }

        public Failed(ErrorCode code, String message) {
            this(code, message, Map.of());
        }
    }
}
