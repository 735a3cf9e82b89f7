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

    /**
     * A heartbeat; the receiver answers with a {@link Pong} carrying the same sequence.
     *
     * @param sentAtMillis the sender's physical clock when it sent the ping (never negative)
     */
    record Ping(long sequence, long sentAtMillis) implements Message {}

    /**
     * The answer to a {@link Ping}, from which the pinger estimates its clock offset to the ponger.
     *
     * @param pingSentAtMillis the ping's {@code sentAtMillis}, echoed
     * @param sentAtMillis     the ponger's physical clock when it answered (never negative)
     */
    record Pong(long sequence, long pingSentAtMillis, long sentAtMillis) implements Message {}
}
