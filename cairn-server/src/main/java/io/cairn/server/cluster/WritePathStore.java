package io.cairn.server.cluster;

import io.cairn.antientropy.SegmentKeys;
import io.cairn.antientropy.TreeKeeper;
import io.cairn.error.CairnException;
import io.cairn.invariant.Invariant;
import io.cairn.namespace.Namespace;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.cairn.replica.LocalReplica;
import io.cairn.replica.LocalStore;
import io.cairn.request.Op;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import io.cairn.server.health.NodeHealth;
import io.cairn.server.write.WritePath;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.StorageException;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The production {@link LocalStore}s: the cluster core's storage effects, run off its threads,
 * with every completion hopping back onto the thread of the core shard that asked before it sees
 * it. The threads below are the node's, shared by its shards; {@link #on} gives each shard its
 * view.
 *
 * <ul>
 *   <li>Replica writes go through the group-commit write path.</li>
 *   <li>Reads run on a small pool of reader threads ({@code cairn-replica-read}); RocksDB reads
 *       are safe to run concurrently with writes.</li>
 *   <li>Storage jobs (hints, the version ceiling, move chunks, drops) run on one storage thread
 *       ({@code cairn-storage}), in submission order.</li>
 *   <li>Durable and detached jobs (the Paxos states' steps, their only users) run on the write
 *       path's applier thread, in queue order, each group's before its writes, covered by the
 *       same group commit: one thread hop and one fsync where the storage thread and a sync thread of their
 *       own took two of each.</li>
 * </ul>
 *
 * <p>The completion runs as a task of the shard's guarded executor, so an exception the core
 * throws while handling it (an invariant violation) is reported as fatal there. A job or read that
 * throws anything but an operating failure (storage, corruption) is a bug: it is reported fatal
 * too, and its completion never runs.
 */
final class WritePathStore implements AutoCloseable {
    static final int READER_THREADS = 2;

    private final WritePath writes;
    private final LocalReplica replica;
    private final StorageEngine engine;
    private final NodeHealth health;
    private final long timeoutNanos;
    private final DefaultEventLoop storageLane = new DefaultEventLoop(new DefaultThreadFactory("cairn-storage", true));
    private final DefaultEventLoopGroup readers = new DefaultEventLoopGroup(READER_THREADS, new DefaultThreadFactory("cairn-replica-read", true));

    WritePathStore(WritePath writes, LocalReplica replica, StorageEngine engine, NodeHealth health, long timeoutMillis) {
        this.writes = writes;
        this.replica = replica;
        this.engine = engine;
        this.health = health;
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    }

    /** The store as the core shard whose thread runs {@code core} sees it: its completions run there. */
    LocalStore on(Executor core) {
        return new LocalStore() {
            @Override
            public void apply(Namespace namespace, List<Op> ops, Applied done) {
                WritePathStore.this.apply(core, namespace, ops, done);
            }

            @Override
            public void read(Namespace namespace, byte[] key, Read done) {
                WritePathStore.this.read(core, namespace, key, done);
            }

            @Override
            public void summary(Namespace namespace, int partition, int[] branches, Completed<TreeKeeper.Snapshot> done) {
                readers.execute(guarded("tree-summary", () -> {
                    TreeKeeper.Snapshot snapshot = replica.summary(namespace, partition, branches);
                    core.execute(() -> done.accept(snapshot, null));
                }));
            }

            @Override
            public void segmentKeys(Namespace namespace, int partition, int[] segments, long maxBytes, Completed<SegmentKeys> done) {
                readers.execute(guarded("segment-keys", () -> {
                    SegmentKeys keys;
                    try {
                        keys = replica.segmentKeys(namespace, partition, segments, maxBytes);
                    } catch (StorageException e) {
                        core.execute(() -> done.accept(null, e));
                        return;
                    }
                    core.execute(() -> done.accept(keys, null));
                }));
            }

            @Override
            public void dropPartition(Namespace namespace, int partition, int maxRecords, java.util.function.BooleanSupplier proceed,
                                      Completed<Boolean> done) {
                // On the storage lane. The partition moved away: no write of it reaches this
                // replica any more, so the applier does not race the drop for its keys.
                WritePathStore.this.run(core, engine -> replica.dropPartition(namespace, partition, maxRecords, proceed), done);
            }

            @Override
            public <T> void run(Job<T> job, Completed<T> done) {
                WritePathStore.this.run(core, job, done);
            }

            @Override
            public <T> void runDurably(Job<T> job, Completed<T> done) {
                onWritePath(core, job, done, true);
            }

            @Override
            public <T> void runDetached(Job<T> job) {
                // Nobody hears how it ended (see LocalStore#runDetached): no trip back to the core's
                // thread, and a refusal or a storage failure leaves work the next request redoes.
                onWritePath(null, job, null, false);
            }
        };
    }

    private void apply(Executor core, Namespace namespace, List<Op> ops, LocalStore.Applied done) {
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

    private void read(Executor core, Namespace namespace, byte[] key, LocalStore.Read done) {
        readers.execute(guarded("replica-read", () -> {
            Record record;
            try {
                record = replica.readStored(namespace, key);
            } catch (CorruptRecordException | StorageException e) {
                core.execute(() -> done.accept(null, e));
                return;
            }
            core.execute(() -> done.accept(record, null));
        }));
    }

    /** A job on the storage lane, in submission order with the lane's other jobs. */
    private <T> void run(Executor core, LocalStore.Job<T> job, LocalStore.Completed<T> done) {
        storageLane.execute(guarded("storage", () -> {
            T result;
            try {
                result = job.run(engine);
            } catch (StorageException e) {
                core.execute(() -> done.accept(null, e));
                return;
            }
            core.execute(() -> done.accept(result, null));
        }));
    }

    /**
     * A durable or detached job (the Paxos states' steps) on the write path's applier thread
     * ({@link WritePath#submitJob}): its writes join the group's, and a durable job's
     * completion waits for the group's sync (one fsync for every write and job in it). A job the
     * write path refuses (full, stalled, failed) or drops (its deadline passed in the queue) did not
     * run, and fails as a storage failure that names why; one in a group whose write failed may or
     * may not have been stored. {@code core} null: nobody is told.
     */
    private <T> void onWritePath(Executor core, LocalStore.Job<T> job, LocalStore.Completed<T> done, boolean durable) {
        JobOutcome<T> outcome = new JobOutcome<>();
        WritePath.Pending pending;
        try {
            pending = writes.submitJob(staged -> {
                try {
                    outcome.result = job.run(staged);
                } catch (StorageException e) {
                    outcome.failure = e;
                }
            }, durable, System.nanoTime() + timeoutNanos);
        } catch (CairnException e) {
            if (core != null) {
                core.execute(() -> done.accept(null, new StorageException("not run: " + e.getMessage(), e)));
            }
            return;
        }
        if (core == null) {
            return;
        }
        // The applier completes the future after the job ran, so the job's outcome is visible here.
        pending.future().whenComplete((ignored, error) -> core.execute(() -> {
            if (error instanceof CairnException e) {
                done.accept(null, new StorageException(e.getMessage(), e));
            } else if (error != null) {
                throw Invariant.violated("the write path failed a storage job with %s, not an operating error", error);
            } else {
                done.accept(outcome.failure == null ? outcome.result : null, outcome.failure);
            }
        }));
    }

    /** What a job on the write path returned or failed with; written by the applier before it completes the job's future. */
    private static final class JobOutcome<T> {
        T result;
        StorageException failure;
    }

    private Runnable guarded(String component, Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (Throwable t) {
                health.fatal(component, t);
                throw t;
            }
        };
    }

    /** Stops the storage threads after the work already queued (the core has stopped asking). */
    @Override
    public void close() {
        storageLane.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        readers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
