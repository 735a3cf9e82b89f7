package io.cairn.replica;

import io.cairn.namespace.Namespace;
import io.cairn.record.Record;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The port through which cluster logic reaches this node's own replica: durable writes (which
 * production routes through the group-commit write path) and reads of stored records.
 */
public interface LocalStore {
    /** Applies the operations durably; completes with one result each, or exceptionally on storage failure. */
    CompletableFuture<List<OpResult>> apply(Namespace namespace, List<Op> ops);

    /** The stored record (tombstones and expired records included) or null. */
    Record readStored(Namespace namespace, byte[] key);

    /** A store that applies synchronously on the caller's thread; what the simulator uses. */
    static LocalStore direct(LocalReplica replica) {
        return new LocalStore() {
            @Override
            public CompletableFuture<List<OpResult>> apply(Namespace namespace, List<Op> ops) {
                try {
                    var outcome = replica.apply(List.of(new io.cairn.request.WriteRequest(namespace, ops, null))).get(0);
                    return CompletableFuture.completedFuture(((io.cairn.request.WriteOutcome.Executed) outcome).results());
                } catch (RuntimeException e) {
                    return CompletableFuture.failedFuture(e);
                }
            }

            @Override
            public Record readStored(Namespace namespace, byte[] key) {
                return replica.readStored(namespace, key);
            }
        };
    }
}
