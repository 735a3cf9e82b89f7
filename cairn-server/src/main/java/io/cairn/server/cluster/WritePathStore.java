package io.cairn.server.cluster;

import io.cairn.error.CairnException;
import io.cairn.invariant.Invariant;
import io.cairn.namespace.Namespace;
import io.cairn.record.Record;
import io.cairn.replica.LocalReplica;
import io.cairn.replica.LocalStore;
import io.cairn.request.Op;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import io.cairn.server.write.WritePath;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The production {@link LocalStore}: replica writes go through the group-commit write path, and
 * their completions hop back onto the cluster core's thread before the core sees them.
 *
 * <p>The completion runs as a task of the core's guarded executor, so an exception the core
 * throws while handling it (an invariant violation) is reported as fatal there.
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
    public void apply(Namespace namespace, List<Op> ops, Applied done) {
        WritePath.Pending pending;
        try {
            pending = writes.submit(new WriteRequest(namespace, ops, null), System.nanoTime() + timeoutNanos);
        } catch (CairnException e) {
            // Refused at once; still answered on a later turn of the core, as every write is.
            core.execute(() -> done.accept(null, e));
            return;
        }
        pending.future().whenComplete((outcome, error) -> core.execute(() -> {
            if (error instanceof CairnException e) {
                done.accept(null, e);
            } else if (error != null) {
                throw Invariant.violated("the write path failed a write with %s, not an operating error", error);
            } else if (outcome instanceof WriteOutcome.Executed executed) {
                done.accept(executed.results(), null);
            } else {
                throw Invariant.violated("a write without an idempotency key ended %s", outcome);
            }
        }));
    }

    @Override
    public Record readStored(Namespace namespace, byte[] key) {
        return replica.readStored(namespace, key);
    }
}
