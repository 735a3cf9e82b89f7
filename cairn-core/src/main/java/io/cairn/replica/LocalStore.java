package io.cairn.replica;

import io.cairn.invariant.Invariant;
import io.cairn.namespace.Namespace;
import io.cairn.record.Record;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import io.cairn.storage.StorageException;
import java.util.List;

/**
 * The port through which cluster logic reaches this node's own replica: durable writes (which
 * production routes through the group-commit write path) and reads of stored records.
 *
 * <p>A write completes through a callback rather than a {@code CompletableFuture}: a future
 * catches whatever its callbacks throw, so an invariant violation in the code handling a
 * completion would end up in a future nobody reads. A callback's exception reaches whoever ran
 * it: the simulator's event loop, or the production core thread's fatal-error guard.
 */
public interface LocalStore {
    /**
     * Applies the operations durably, then calls {@code done} on the core's thread: with one
     * result each, or with the operating error that kept them from being stored (a
     * {@link StorageException}, or a {@code CairnException} such as overloaded or outcome
     * unknown). A programmer error is never handed to {@code done}: it propagates.
     */
    void apply(Namespace namespace, List<Op> ops, Applied done);

    /** The stored record (tombstones and expired records included) or null. */
    Record readStored(Namespace namespace, byte[] key);

    /** How a write ended: exactly one of {@code results} and {@code failure} is non-null. */
    @FunctionalInterface
    interface Applied {
        void accept(List<OpResult> results, RuntimeException failure);
    }

    /**
     * A store that applies synchronously on the caller's thread and calls back before returning;
     * what the simulator uses. Only a storage failure becomes a failed write; anything else the
     * replica throws (an invariant violation) propagates to the caller.
     */
    static LocalStore direct(LocalReplica replica) {
        return new LocalStore() {
            @Override
            public void apply(Namespace namespace, List<Op> ops, Applied done) {
                WriteOutcome outcome;
                try {
                    outcome = replica.apply(List.of(new WriteRequest(namespace, ops, null))).get(0);
                } catch (StorageException e) {
                    done.accept(null, e);
                    return;
                }
                if (!(outcome instanceof WriteOutcome.Executed executed)) {
                    throw Invariant.violated("a write without an idempotency key ended %s", outcome);
                }
                // Outside the try: what the callback throws is the caller's, not a storage failure.
                done.accept(executed.results(), null);
            }

            @Override
            public Record readStored(Namespace namespace, byte[] key) {
                return replica.readStored(namespace, key);
            }
        };
    }
}
