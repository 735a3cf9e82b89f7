package io.cairn.coordinator;

import io.cairn.error.ErrorCode;
import io.cairn.record.Record;
import io.cairn.version.Version;
import java.util.Map;

/** What a coordinator answers a client, protocol-neutral; front ends render it. */
public sealed interface ClientResult {
    /** A put reached W replicas. */
    record Written(Version version, long expiresAtMillis, int acks) implements ClientResult {}

    /** A delete's tombstone reached W replicas. */
    record Deleted(Version version, int acks) implements ClientResult {}

    /** A read found a live value among R replies. */
    record Found(Record record, int replies) implements ClientResult {}

    /** A read found nothing live among R replies. */
    record NotFound(int replies) implements ClientResult {}

    /** The request failed; {@code details} carry figures such as how many replicas were reachable. */
    record Failed(ErrorCode code, String message, Map<String, Object> details) implements ClientResult {}
}
