package io.cairn.request;

import io.cairn.error.ErrorCode;
import java.util.Map;

/**
 * One operation's result and how many replicas took part in it: acknowledgements for a write
 * ({@code fallbackAcks} of them from fallback nodes holding a hint, under sloppy quorum), replies
 * for a read. A single node, and an outcome replayed from an idempotency record, report none.
 */
public record Answer(OpResult result, int acks, int fallbackAcks, int replies) {
    public Answer {
        if (acks < 0 || fallbackAcks < 0 || fallbackAcks > acks || replies < 0) {
            throw new IllegalArgumentException("bad replica counts acks=" + acks + " fallbackAcks=" + fallbackAcks + " replies=" + replies);
        }
    }

    /** A result no replica count goes with: a single node's, a replayed one, a refusal. */
    public static Answer of(OpResult result) {
        return new Answer(result, 0, 0, 0);
    }

    public static Answer failed(ErrorCode code, String message, Map<String, Object> details) {
        return of(new OpResult.Failed(code, message, details));
    }

    public static Answer written(OpResult result, int acks, int fallbackAcks) {
        return new Answer(result, acks, fallbackAcks, 0);
    }

    public static Answer read(OpResult result, int replies) {
        return new Answer(result, 0, 0, replies);
    }
}
