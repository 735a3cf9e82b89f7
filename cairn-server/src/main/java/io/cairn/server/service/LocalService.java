package io.cairn.server.service;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.request.IdempotencyTag;
import io.cairn.namespace.Namespace;
import io.cairn.placement.Quorum;
import io.cairn.replica.LocalReplica;
import io.cairn.request.Answer;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import io.cairn.server.metrics.NodeMetrics;
import io.cairn.server.write.WritePath;
import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The service on a single node: reads run on the caller's thread straight against storage, writes
 * go through the group-commit {@link WritePath}. A write that has not completed by its deadline is
 * answered {@code overloaded} when it could still be withdrawn (never applied) and
 * {@code outcome_unknown} when it could not (it may yet be applied).
 */
public final class LocalService implements KvService, NamespacedService, AutoCloseable {
    private final Namespace namespace;
    private final LocalReplica replica;
    private final WritePath writes;
    private final NodeMetrics metrics;
    // One thread for every write's deadline: a wheel costs O(1) per timeout.
    private final HashedWheelTimer deadlines = new HashedWheelTimer(r -> {
        Thread t = new Thread(r, "cairn-write-deadlines");
        t.setDaemon(true);
        return t;
    }, 10, TimeUnit.MILLISECONDS);

    public LocalService(Namespace namespace, LocalReplica replica, WritePath writes, NodeMetrics metrics) {
        this.namespace = namespace;
        this.replica = replica;
        this.writes = writes;
        this.metrics = metrics;
    }

    @Override
    public boolean replicated() {
        return false;
    }

    @Override
    public CompletableFuture<Answer> read(byte[] key, Quorum r, long deadlineNanos) {
        return read(namespace, key, r, deadlineNanos);
    }

    @Override
    public CompletableFuture<WriteOutcome> write(List<Op> ops, IdempotencyTag idempotency, Quorum r, Quorum w, long deadlineNanos) {
        return write(namespace, ops, idempotency, r, w, deadlineNanos);
    }

    @Override
    public CompletableFuture<Answer> read(Namespace namespace, byte[] key, Quorum r, long deadlineNanos) {
        String bad = unfit("r", r);
        if (bad != null) {
            return CompletableFuture.completedFuture(Answer.failed(ErrorCode.INVALID_QUORUM, bad, java.util.Map.of()));
        }
        return CompletableFuture.completedFuture(Answer.of(readNow(namespace, key)));
    }

    private OpResult readNow(Namespace namespace, byte[] key) {
        OpResult result = replica.read(namespace, key);
        if (result instanceof OpResult.Failed) {
            metrics.corruptRead();
        }
        return result;
    }

    @Override
    public CompletableFuture<WriteOutcome> write(Namespace namespace, List<Op> ops, IdempotencyTag idempotency, Quorum r, Quorum w,
                                                 long deadlineNanos) {
        String bad = unfit("r", r);
        if (bad == null) {
            bad = unfit("w", w);
        }
        if (bad != null) {
            return CompletableFuture.completedFuture(new WriteOutcome.Failed(ErrorCode.INVALID_QUORUM, bad));
        }
        if (idempotency == null && ops.stream().noneMatch(Op::isWrite)) {
            // Reads need no write path: they run now, each against the latest applied state.
            List<OpResult> results = new ArrayList<>(ops.size());
            // Bounded by bytes, as the write path bounds a batch's reads.
            io.cairn.request.BatchReadBudget reads = new io.cairn.request.BatchReadBudget(replica.limits().maxBatchReadBytes());
            for (Op op : ops) {
                results.add(reads.admit(readNow(namespace, op.key())));
            }
            return CompletableFuture.completedFuture(WriteOutcome.Executed.of(results, false, false));
        }
        WritePath.Pending pending = writes.submit(new WriteRequest(namespace, ops, idempotency), deadlineNanos);
        CompletableFuture<WriteOutcome> outcome = new CompletableFuture<>();
        long timeoutNanos = Math.max(0, deadlineNanos - System.nanoTime());
        Timeout timeout = deadlines.newTimeout(t -> {
            if (outcome.isDone()) {
                return;
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(timeoutNanos);
            outcome.complete(pending.cancel()
                    ? new WriteOutcome.Failed(ErrorCode.OVERLOADED, "the write was not applied within " + millis + " ms and was withdrawn; it was not stored")
                    : new WriteOutcome.Failed(ErrorCode.OUTCOME_UNKNOWN, "the write did not complete within " + millis + " ms; it may or may not be stored"));
        }, timeoutNanos, TimeUnit.NANOSECONDS);
        pending.future().whenComplete((result, error) -> {
            timeout.cancel();
            if (error == null) {
                outcome.complete(result);
            } else if (error instanceof CairnException c) {
                outcome.complete(new WriteOutcome.Failed(c.code(), c.getMessage(), c.details()));
            } else {
                outcome.completeExceptionally(error);
            }
        });
        return outcome;
    }

    /**
     * Why {@code q} cannot be asked of a single node (N = 1), or null: quorums that one replica
     * meets are accepted (and mean nothing more), so client code written for a cluster runs here.
     */
    private static String unfit(String name, Quorum q) {
        String problem = q == null ? null : q.problem(1);
        return problem == null ? null : name + "=" + problem + " (a single node is one replica)";
    }

    @Override
    public void close() {
        deadlines.stop();
    }
}
