package io.cairn.coordinator;

import io.cairn.error.ErrorCode;
import io.cairn.record.Record;
import io.cairn.version.Version;
import java.util.Map;

/** What a coordinator answers a client, protocol-neutral; front ends render it. */
public sealed interface ClientResult {
    /**
     * A put reached W replicas. {@code acks} counts every acknowledgement, {@code fallbackAcks}
     * those of them from fallback nodes holding a hint for a home replica (sloppy quorum only).
     */
    record Written(Version version, long expiresAtMillis, int acks, int fallbackAcks) implements ClientResult {
        public Written(Version version, long expiresAtMillis, int acks) {
            this(version, expiresAtMillis, acks, 0);
        }
    }

    /** A delete's tombstone reached W replicas; acks counted as for {@link Written}. */
    record Deleted(Version version, int acks, int fallbackAcks) implements ClientResult {
        public Deleted(Version version, int acks) {
            this(version, acks, 0);
        }
    }

    /** A read found a live value among R replies. */
    record Found(Record record, int replies) implements ClientResult {}

    /** A read found nothing live among R replies. */
    record NotFound(int replies) implements ClientResult {}

    /** The request failed; {@code details} carry figures such as how many replicas were reachable. */
    record Failed(ErrorCode code, String message, Map<String, Object> details) implements ClientResult {}
}
