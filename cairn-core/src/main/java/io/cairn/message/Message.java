package io.cairn.message;

import io.cairn.record.Record;

/**
 * Everything nodes say to each other, as plain values. Requests and responses come in pairs and
 * share a request id chosen by the sender; the transport adds framing, checksums and deadlines.
 */
public sealed interface Message {
    /** Store this record if it is newer than what the replica holds (last-writer-wins). */
    record WriteRequest(long requestId, int namespaceId, byte[] key, Record record) implements Message {}

    /**
     * Sloppy quorum: the receiver, a fallback node, keeps this write as a durable hint for the
     * unreachable home replica {@code target} and hands it off once the target is back. Answered
     * with a {@link WriteResponse}.
     */
    record HintedWrite(long requestId, int target, int namespaceId, byte[] key, Record record) implements Message {}

    /**
     * {@code stored}: the replica now durably holds this version or a newer one; in answer to a
     * {@link HintedWrite}, the fallback durably holds a hint of it for the target.
     */
    record WriteResponse(long requestId, boolean stored, String error) implements Message {}

    /** Send back your stored record for this key, tombstones and expired records included. */
    record ReadRequest(long requestId, int namespaceId, byte[] key) implements Message {}

    /** The replica's record, or null when it holds nothing; {@code error} when it could not read. */
    record ReadResponse(long requestId, Record record, String error) implements Message {}

    /** A heartbeat; the receiver answers with a {@link Pong} carrying the same sequence. */
    record Ping(long sequence) implements Message {}

    record Pong(long sequence) implements Message {}
}
