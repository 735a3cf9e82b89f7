package io.cairn.cluster;

import io.cairn.antientropy.SegmentKeys;
import io.cairn.antientropy.TreeKeeper;
import io.cairn.namespace.Namespace;
import io.cairn.replica.LocalStore;
import io.cairn.request.Op;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.StorageException;
import java.util.ArrayDeque;
import java.util.List;

/**
 * For tests: storage jobs that run only when the test says so, like a disk that has not got to
 * them yet; each then runs against the engine as the direct store would. Replica reads and
 * writes are not expected.
 */
final class QueuedStore implements LocalStore {
    private final ArrayDeque<Runnable> jobs = new ArrayDeque<>();
    private final LocalStore direct;
    /** The next job to run fails with a storage failure instead of running. */
    boolean failNext;

    QueuedStore(StorageEngine engine) {
        this.direct = LocalStore.direct(null, engine);
    }

    @Override
    public void apply(Namespace namespace, List<Op> ops, Applied done) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void read(Namespace namespace, byte[] key, Read done) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void summary(Namespace namespace, int partition, int[] branches, Completed<TreeKeeper.Snapshot> done) {
        // No trees here: exchanges find nothing to compare.
        done.accept(null, null);
    }

    @Override
    public void segmentKeys(Namespace namespace, int partition, int[] segments, long maxBytes, Completed<SegmentKeys> done) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void dropPartition(Namespace namespace, int partition, int maxRecords, java.util.function.BooleanSupplier proceed, Completed<Boolean> done) {
        throw new UnsupportedOperationException();
    }

    @Override
    public <T> void run(Job<T> job, Completed<T> done) {
        jobs.add(() -> {
            if (failNext) {
                failNext = false;
                done.accept(null, new StorageException("injected"));
            } else {
                direct.run(job, done);
            }
        });
    }

    int queued() {
        return jobs.size();
    }

    /** Runs the oldest queued job. */
    void runOne() {
        jobs.poll().run();
    }

    void runAll() {
        while (!jobs.isEmpty()) {
            runOne();
        }
    }
}
