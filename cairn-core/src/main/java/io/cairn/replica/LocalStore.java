package io.cairn.replica;

import io.cairn.antientropy.SegmentKeys;
import io.cairn.antientropy.TreeKeeper;
import io.cairn.invariant.Invariant;
import io.cairn.namespace.Namespace;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.StorageException;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The port through which cluster logic reaches this node's disk: every piece of storage work the
 * core needs is an <em>effect</em> it asks for here, and its completion comes back later as an
 * event on the core's thread. The core never reads, writes, scans or fsyncs on its own thread, so
 * a slow disk delays the work that needs the disk and nothing else: heartbeats, failure
 * detection and timeouts keep their timing (in the manner of etcd-raft's {@code Ready}, where the
 * application persists what the state machine asks for and then tells it).
 *
 * <p>Three lanes, because they have different ordering needs:
 * <ul>
 *   <li>{@link #apply}: replica writes, through the group-commit write path (production) — ordered
 *       per write path, durable before completion.</li>
 *   <li>{@link #read}: point reads of stored records; unordered, may run concurrently.</li>
 *   <li>{@link #run}: any other storage job (hints, the version ceiling) against the engine, one at
 *       a time <b>in submission order</b>, so a job sees every earlier job's effect.</li>
 * </ul>
 * {@link #runDurably} and {@link #runDetached} jobs run one at a time in submission order among
 * themselves, and each sees every {@link #apply} that completed before it was submitted; a store
 * may run them beside the writes rather than on {@link #run}'s lane (production does: they join
 * the write path's group commit), so they must not count on an order with {@link #run}'s jobs,
 * nor with a write still pending when they were submitted.
 *
 * <p>A completion runs through a callback rather than a {@code CompletableFuture}: a future catches
 * whatever its callbacks throw, so an invariant violation in the code handling a completion would
 * end up in a future nobody reads. A callback's exception reaches whoever ran it: the simulator's
 * event loop, or the production core thread's fatal-error guard. A completion may run before the
 * call returns (the direct store) or on a later turn (production, the simulator); callers must
 * handle both.
 */
public interface LocalStore {
    /**
     * Applies the operations durably, then calls {@code done} on the core's thread: with one
     * result each, or with the operating error that kept them from being stored (a
     * {@link StorageException}, or a {@code CairnException} such as overloaded or outcome
     * unknown). A programmer error is never handed to {@code done}: it propagates.
     */
    void apply(Namespace namespace, List<Op> ops, Applied done);

    /**
     * Reads the stored record (tombstones and expired records included, or null when absent), then
     * calls {@code done} on the core's thread with it, or with the {@link CorruptRecordException}
     * or {@link StorageException} that kept it from being read.
     */
    void read(Namespace namespace, byte[] key, Read done);

    /**
     * Runs {@code job} against the engine on the storage lane — after every job submitted before
     * it — then calls {@code done} on the core's thread with its result or its
     * {@link StorageException}. The job runs on another thread: it must touch only the engine and
     * what it captured, never the core's state; whatever it learns travels back as its result.
     */
    <T> void run(Job<T> job, Completed<T> done);

    /**
     * As {@link #runDurably} without the sync, for a job run for its writes alone: nothing hears
     * how it ended (a store may then skip the trip back to the core's thread). Only for work whose
     * failure needs no answer, such as a note that the next request would redo if it were lost.
     */
    default <T> void runDetached(Job<T> job) {
        run(job, (result, failure) -> { });
    }

    /**
     * As {@link #run}, for a job whose writes must be durable before {@code done} learns its
     * result: the job writes {@link io.cairn.storage.Durability#ASYNC}, and the completion waits
     * for a WAL sync that covers them, which the store may share among many jobs and writes
     * (production runs them in the write path's groups: one fsync for a group). Jobs still run one
     * at a time in submission order, so a later job may read an earlier one's writes before they
     * are synced; its own completion then waits for a sync covering both. Ordered with
     * {@link #runDetached}, not with {@link #run}: see above.
     */
    default <T> void runDurably(Job<T> job, Completed<T> done) {
        run(engine -> {
            T result = job.run(engine);
            engine.syncWal();
            return result;
        }, done);
    }

    /**
     * Anti-entropy: this replica's tree hashes of a partition ({@link LocalReplica#summary}),
     * then calls {@code done} on the core's thread; a null snapshot while the tree is being built.
     */
    void summary(Namespace namespace, int partition, int[] branches, Completed<TreeKeeper.Snapshot> done);

    /**
     * Anti-entropy: this replica's records in some segments of a partition
     * ({@link LocalReplica#segmentKeys}), then calls {@code done} on the core's thread.
     */
    void segmentKeys(Namespace namespace, int partition, int[] segments, long maxBytes, Completed<SegmentKeys> done);

    /**
     * Moving partitions: deletes up to {@code maxRecords} of this replica's records of a partition
     * that moved away ({@link LocalReplica#dropPartition}) — unless {@code proceed}, asked when the
     * job runs (on whatever thread that is; it must be thread-safe), says the partition came back
     * meanwhile — then calls {@code done} on the core's
     * thread with whether records remain.
     */
    void dropPartition(Namespace namespace, int partition, int maxRecords, BooleanSupplier proceed, Completed<Boolean> done);

    /** How a write ended: exactly one of {@code results} and {@code failure} is non-null. */
    @FunctionalInterface
    interface Applied {
        void accept(List<OpResult> results, RuntimeException failure);
    }

    /** How a read ended: {@code failure} is null when {@code record} (possibly null) is what is stored. */
    @FunctionalInterface
    interface Read {
        void accept(Record record, RuntimeException failure);
    }

    /** Storage work that runs off the core's thread. */
    @FunctionalInterface
    interface Job<T> {
        T run(StorageEngine engine);
    }

    /** How a job ended: {@code failure} is null when {@code result} is what the job returned. */
    @FunctionalInterface
    interface Completed<T> {
        void accept(T result, StorageException failure);
    }

    /**
     * A store that does the work synchronously on the caller's thread and calls back before
     * returning; for tests, and the basis of the simulator's store. Only an operating failure
     * (storage, corruption on a read) becomes a failed completion; anything else (an invariant
     * violation) propagates to the caller.
     */
    static LocalStore direct(LocalReplica replica, StorageEngine engine) {
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
            public void read(Namespace namespace, byte[] key, Read done) {
                Record record;
                try {
                    record = replica.readStored(namespace, key);
                } catch (CorruptRecordException | StorageException e) {
                    done.accept(null, e);
                    return;
                }
                done.accept(record, null);
            }

            @Override
            public void summary(Namespace namespace, int partition, int[] branches, Completed<TreeKeeper.Snapshot> done) {
                done.accept(replica.summary(namespace, partition, branches), null);
            }

            @Override
            public void segmentKeys(Namespace namespace, int partition, int[] segments, long maxBytes, Completed<SegmentKeys> done) {
                SegmentKeys keys;
                try {
                    keys = replica.segmentKeys(namespace, partition, segments, maxBytes);
                } catch (StorageException e) {
                    done.accept(null, e);
                    return;
                }
                done.accept(keys, null);
            }

            @Override
            public void dropPartition(Namespace namespace, int partition, int maxRecords, BooleanSupplier proceed, Completed<Boolean> done) {
                boolean more;
                try {
                    more = replica.dropPartition(namespace, partition, maxRecords, proceed);
                } catch (StorageException e) {
                    done.accept(null, e);
                    return;
                }
                done.accept(more, null);
            }

            @Override
            public <T> void run(Job<T> job, Completed<T> done) {
                T result;
                try {
                    result = job.run(engine);
                } catch (StorageException e) {
                    done.accept(null, e);
                    return;
                }
                done.accept(result, null);
            }
        };
    }
}
