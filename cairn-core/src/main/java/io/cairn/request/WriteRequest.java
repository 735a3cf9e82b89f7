package io.cairn.request;

import io.cairn.namespace.Namespace;
import java.util.List;

/**
 * A unit of work for the write path: one put or delete, or a batch, in one namespace, optionally
 * guarded by an idempotency key. Its operations apply in order; each sees the earlier ones.
 */
public record WriteRequest(Namespace namespace, List<Op> ops, IdempotencyTag idempotency) {
    public WriteRequest {
        ops = List.copyOf(ops);
        if (ops.isEmpty()) {
            throw new IllegalArgumentException("a write request needs at least one operation");
        }
    }

    public static WriteRequest of(Namespace namespace, Op op) {
        return new WriteRequest(namespace, List.of(op), null);
    }
}
