package io.cairn.server.service;

import io.cairn.request.IdempotencyTag;
import io.cairn.placement.Quorum;
import io.cairn.request.Answer;
import io.cairn.request.Op;
import io.cairn.request.WriteOutcome;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The key-value service every front end calls (HTTP today, the Redis protocol and the Java client
 * next): front ends parse their protocol into operations and render what comes back, and every
 * policy — conditions, TTL, idempotency, quorums, per-key order in a batch — lives behind this
 * interface, in the core. One implementation serves a single node ({@link LocalService}), one a
 * cluster (the cluster driver). Futures may complete on any thread.
 *
 * <p>Every request carries the {@link System#nanoTime()} past which it must not start: a request
 * that reaches the node's core or write path after it is refused ({@code overloaded}, not
 * executed) rather than run for a client that has given up.
 */
public interface KvService {
    /** A deadline that never passes: for work that completes an answer already under way. */
    long NO_DEADLINE = Long.MIN_VALUE;

    /** Whether a request with this deadline must no longer start. */
    static boolean expired(long deadlineNanos) {
        return deadlineNanos != NO_DEADLINE && System.nanoTime() - deadlineNanos > 0;
    }

    /**
     * Runs a write request: one put or delete, or a batch (whose gets read at {@code r}), in the
     * default namespace, optionally idempotent.
     *
     * @param r the read quorum, or null for the default (a single node takes those that one replica meets)
     * @param w the write quorum, or null for the default (a single node takes those that one replica meets)
     */
    CompletableFuture<WriteOutcome> write(List<Op> ops, IdempotencyTag idempotency, Quorum r, Quorum w, long deadlineNanos);

    /**
     * As {@link #write(List, IdempotencyTag, Quorum, Quorum, long)}, with the client's causal token
     * {@code after} (null: none): every version the writes get is newer than it. A single node's
     * versions all come from its one monotonic clock, so there it needs nothing.
     */
    default CompletableFuture<WriteOutcome> write(List<Op> ops, IdempotencyTag idempotency, Quorum r, Quorum w, io.cairn.clock.Version after,
                                                  long deadlineNanos) {
        return write(ops, idempotency, r, w, deadlineNanos);
    }

    /** Reads one key at read quorum {@code r} (null: the default; a single node takes those that one replica meets). */
    CompletableFuture<Answer> read(byte[] key, Quorum r, long deadlineNanos);

    /**
     * Reads one key linearizably ({@code consistency=serial}): on a cluster a Paxos round on the
     * key, which first finishes any conditional write in progress; a single node's reads already are.
     */
    default CompletableFuture<Answer> serialRead(byte[] key, long deadlineNanos) {
        return read(key, null, deadlineNanos);
    }

    /** Whether the data is replicated, so that quorums apply and answers count replicas. */
    boolean replicated();
}
