package io.cairn.message;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.cairn.storage.StorageException;
import java.util.Objects;

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
    record WriteResponse(long requestId, boolean stored, Failure error) implements Message {
        public WriteResponse {
            if (stored && error != null) {
                throw new IllegalArgumentException("a write response is stored or failed, not both");
            }
        }
    }

    /** Send back your stored record for this key, tombstones and expired records included. */
    record ReadRequest(long requestId, int namespaceId, byte[] key) implements Message {}

    /** The replica's record, or null when it holds nothing; {@code error} when it could not read. */
    record ReadResponse(long requestId, Record record, Failure error) implements Message {
        public ReadResponse {
            if (record != null && error != null) {
                throw new IllegalArgumentException("a read response carries a record or a failure, not both");
            }
        }
    }

    /**
     * Why a replica did not do what was asked, typed so the coordinator can tell a corrupt copy
     * from a full disk from a refused clock, and say so to its client.
     */
    record Failure(ErrorCode code, String message) {
        public Failure {
            Objects.requireNonNull(code);
            Objects.requireNonNull(message);
        }

        /** The failure a local exception stands for. */
        public static Failure of(Throwable e) {
            ErrorCode code = switch (e) {
                case CorruptRecordException c -> ErrorCode.CORRUPT_RECORD;
                case StorageException s -> ErrorCode.STORAGE_FAILED;
                case CairnException c -> c.code();
                default -> ErrorCode.INTERNAL;
            };
            return new Failure(code, String.valueOf(e.getMessage()));
        }
    }

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
