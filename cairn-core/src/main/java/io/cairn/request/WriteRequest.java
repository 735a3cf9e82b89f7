package io.cairn.request;

import io.cairn.error.ErrorCode;
import io.cairn.namespace.Namespace;
import java.util.List;

/**
 * A unit of work for the write path: one put or delete, or a batch, in one namespace, optionally
 * guarded by an idempotency key. Its operations apply in order; each sees the earlier ones.
 *
 * <p>{@code after}, when not null, is the client's causal token: the version of the last write it
 * saw (an ETag). Every version the request's writes get is newer than it, or the request is
 * refused ({@code clock_unsafe}, when the token is further ahead of the coordinator's clock than
 * the max clock offset): a client's later write never loses to its earlier one by last-writer-wins,
 * whatever coordinators the two went through.
 */
public record WriteRequest(Namespace namespace, List<Op> ops, IdempotencyTag idempotency, io.cairn.clock.Version after) {
    public WriteRequest {
        ops = List.copyOf(ops);
        if (ops.isEmpty()) {
            throw new IllegalArgumentException("a write request needs at least one operation");
        }
    }

    public WriteRequest(Namespace namespace, List<Op> ops, IdempotencyTag idempotency) {
        this(namespace, ops, idempotency, null);
    }

    public static WriteRequest of(Namespace namespace, Op op) {
        return new WriteRequest(namespace, List.of(op), null);
    }

    /**
     * The refusal of a request one of whose puts cannot be stored in its namespace (a value over the
     * namespace's limit), or null: {@code value_too_large}, with the put's index among the
     * operations in {@code operation} when there are several (a batch names its bad operation).
     */
    public WriteOutcome.Failed valueRefusal() {
        for (int i = 0; i < ops.size(); i++) {
            if (ops.get(i) instanceof Op.Put p) {
                String refusal = namespace.valueRefusal(p.value().length);
                if (refusal != null) {
                    return new WriteOutcome.Failed(ErrorCode.VALUE_TOO_LARGE, refusal, ops.size() == 1 ? java.util.Map.of()
                            : java.util.Map.of("operation", i));
                }
            }
        }
        return null;
    }
}
