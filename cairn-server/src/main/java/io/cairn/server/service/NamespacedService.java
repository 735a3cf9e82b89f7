package io.cairn.server.service;

import io.cairn.namespace.Namespace;
import io.cairn.request.Answer;
import io.cairn.request.IdempotencyTag;
import io.cairn.request.Op;
import io.cairn.placement.Quorum;
import io.cairn.request.WriteOutcome;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A node's service over any namespace it serves (the single node's, the cluster's): the
 * {@link KvService} of one namespace, such as the tokens', is a view of it ({@link #in}).
 */
public interface NamespacedService {
    /** As {@link KvService#write}, in {@code ns}. */
    CompletableFuture<WriteOutcome> write(Namespace ns, List<Op> ops, IdempotencyTag idempotency, Quorum r, Quorum w, long deadlineNanos);

    /** As {@link KvService#write(List, IdempotencyTag, Quorum, Quorum, io.cairn.clock.Version, long)}, in {@code ns}. */
    default CompletableFuture<WriteOutcome> write(Namespace ns, List<Op> ops, IdempotencyTag idempotency, Quorum r, Quorum w,
                                                  io.cairn.clock.Version after, long deadlineNanos) {
        return write(ns, ops, idempotency, r, w, deadlineNanos);
    }

    /** As {@link KvService#read}, in {@code ns}. */
    CompletableFuture<Answer> read(Namespace ns, byte[] key, Quorum r, long deadlineNanos);

    /** As {@link KvService#serialRead}, in {@code ns}. */
    default CompletableFuture<Answer> serialRead(Namespace ns, byte[] key, long deadlineNanos) {
        return read(ns, key, null, deadlineNanos);
    }

    boolean replicated();

    /** The service over namespace {@code ns}. */
    default KvService in(Namespace ns) {
        NamespacedService all = this;
        return new KvService() {
            @Override
            public CompletableFuture<WriteOutcome> write(List<Op> ops, IdempotencyTag idempotency, Quorum r, Quorum w, long deadlineNanos) {
                return all.write(ns, ops, idempotency, r, w, deadlineNanos);
            }

            @Override
            public CompletableFuture<WriteOutcome> write(List<Op> ops, IdempotencyTag idempotency, Quorum r, Quorum w,
                                                         io.cairn.clock.Version after, long deadlineNanos) {
                return all.write(ns, ops, idempotency, r, w, after, deadlineNanos);
            }

            @Override
            public CompletableFuture<Answer> read(byte[] key, Quorum r, long deadlineNanos) {
                return all.read(ns, key, r, deadlineNanos);
            }

            @Override
            public CompletableFuture<Answer> serialRead(byte[] key, long deadlineNanos) {
                return all.serialRead(ns, key, deadlineNanos);
            }

            @Override
            public boolean replicated() {
                return all.replicated();
            }
        };
    }
}
