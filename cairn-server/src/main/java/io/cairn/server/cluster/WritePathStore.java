package io.cairn.server.cluster;

import io.cairn.error.CairnException;
import io.cairn.namespace.Namespace;
import io.cairn.record.Record;
import io.cairn.replica.LocalReplica;
import io.cairn.replica.LocalStore;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import io.cairn.server.write.WritePath;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The production {@link LocalStore}: replica writes go through the group-commit write path, and
 * their completions hop back onto the cluster core's thread before the core sees them.
 */
final class WritePathStore implements LocalStore {
    private final WritePath writes;
    private final LocalReplica replica;
    private final Executor core;
    private final long timeoutNanos;

    WritePathStore(WritePath writes, LocalReplica replica, Executor core, long timeoutMillis) {
        this.writes = writes;
        this.replica = replica;
        this.core = core;
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    }

    @Override
    public CompletableFuture<List<OpResult>> apply(Namespace namespace, List<Op> ops) {
        WritePath.Pending pending;
        try {
            pending = writes.submit(new WriteRequest(namespace, ops, null), System.nanoTime() + timeoutNanos);
        } catch (CairnException e) {
            CompletableFuture<List<OpResult>> failed = new CompletableFuture<>();
            core.execute(() -> failed.completeExceptionally(e));
            return failed;
        }
        return pending.future().thenApplyAsync(outcome -> ((WriteOutcome.Executed) outcome).results(), core);
    }

    @Override
    public Record readStored(Namespace namespace, byte[] key) {
        return replica.readStored(namespace, key);
    }
}
