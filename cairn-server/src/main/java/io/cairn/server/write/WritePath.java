package io.cairn.server.write;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.replica.LocalReplica;
import io.cairn.server.health.NodeHealth;
import io.cairn.request.Op;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import io.cairn.storage.StagedEngine;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.StorageException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write path's single applier: a bounded queue in front of one thread that groups queued
 * requests and hands each group to {@link LocalReplica#apply} as one durable batch.
 *
 * <p><b>Group commit.</b> While the applier waits for one group's fsync, new requests queue up;
 * the next group takes all of them (up to {@code maxGroupSize} requests or {@code maxGroupBytes}),
 * so under load many writes share one fsync, and with one writer, latency is one fsync. A group
 * never exceeds {@code maxGroupBytes} unless its one request does alone: a request's weight
 * ({@link #bytesOf}) counts every byte it carries — keys, values, replica writes' records — so
 * replication traffic is bounded like client traffic.
 *
 * <p><b>Storage jobs.</b> Besides write requests the queue takes {@linkplain #submitJob jobs}: storage
 * work (a Paxos state step) that runs on the applier thread, jobs in queue order, each group's
 * jobs before its writes. The jobs write through a staging view of the engine ({@link StagedEngine}:
 * a job reads its group's earlier jobs' writes) and their writes go into the group's batch, ahead
 * of its requests': one engine write per group, however many jobs it ran. A job completes once the
 * group's WAL sync covers its writes. So a job sees every write that completed before it was queued, and one group, one
 * fsync and one thread hop serve replica writes and Paxos states alike (decision 0014, "Later
 * (2026-12-04, night)").
 *
 * <p><b>Admission.</b> The queue is bounded: when it is full, or storage reports stopped writes,
 * {@link #submit} refuses at once (503 with Retry-After at the front end) instead of queueing
 * without bound. A request that waited past its deadline without being applied is dropped and
 * reported as not applied; one that had started applying is reported as outcome unknown.
 *
 * <p><b>Background work.</b> The TTL sweeper runs on the same thread between groups, so its
 * check-then-delete can never race a concurrent overwrite, and each pass is bounded. So does the
 * scrub ({@link LocalReplica#scrub}): a step of at most {@value #SCRUB_STEP_RECORDS} records at a
 * time, paced to {@code scrubBytesPerSecond}, except while a cluster node's segment trees are
 * being built after a crash (then steps run back to back between groups, so exchanges can start
 * soon). A pass over all the data starts at most once per {@code scrubIntervalMillis} (counted
 * from the start of the previous pass), and never sooner than {@value #SCRUB_PASS_PAUSE_MILLIS} ms
 * after the previous one ended.
 *
 * <p><b>Failure.</b> A storage write error fails the group's requests as outcome unknown and
 * stops the node from accepting writes ({@link #failed()}).
 */
public final class WritePath implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WritePath.class);

    private final LocalReplica replica;
    private final BlockingQueue<Pending> queue;
    private final int maxGroupSize;
    private final long maxGroupBytes;
    private final long sweepIntervalNanos;
    private final int sweepBatchSize;
    private final BooleanSupplier storageStalled;
    private final NodeHealth health;
    static final int SCRUB_STEP_RECORDS = 1024;
    static final long SCRUB_STEP_BYTES = 1L << 20;
    static final long SCRUB_PASS_PAUSE_MILLIS = 1_000;

    private final Thread applier;
    // The engine the group's jobs see: their writes wait there to go into the group's batch.
    private final StagedEngine staged;
    private final long scrubBytesPerSecond;
    private final long scrubIntervalNanos;
    private long nextScrubNanos;
    private long scrubPassStartedNanos;
    private volatile boolean running = true;
    private volatile Throwable failure;
    private long nextSweepNanos;

    public WritePath(LocalReplica replica, int queueCapacity, int maxGroupSize, long maxGroupBytes,
                     long sweepIntervalMillis, int sweepBatchSize, BooleanSupplier storageStalled, NodeHealth health) {
        this(replica, queueCapacity, maxGroupSize, maxGroupBytes, sweepIntervalMillis, sweepBatchSize, 16L << 20, 24 * 3_600_000L,
                storageStalled, health);
    }

    public WritePath(LocalReplica replica, int queueCapacity, int maxGroupSize, long maxGroupBytes, long sweepIntervalMillis,
                     int sweepBatchSize, long scrubBytesPerSecond, long scrubIntervalMillis, BooleanSupplier storageStalled, NodeHealth health) {
        if (scrubBytesPerSecond < 1 || scrubIntervalMillis < 1) {
            throw new IllegalArgumentException("the scrub rate and interval must be positive");
        }
        this.scrubBytesPerSecond = scrubBytesPerSecond;
        this.scrubIntervalNanos = TimeUnit.MILLISECONDS.toNanos(scrubIntervalMillis);
        this.replica = replica;
        this.staged = replica.stage();
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.maxGroupSize = maxGroupSize;
        this.maxGroupBytes = maxGroupBytes;
        this.sweepIntervalNanos = TimeUnit.MILLISECONDS.toNanos(sweepIntervalMillis);
        this.sweepBatchSize = sweepBatchSize;
        this.storageStalled = storageStalled;
        this.health = health;
        this.nextSweepNanos = System.nanoTime() + sweepIntervalNanos;
        this.nextScrubNanos = System.nanoTime();
        this.scrubPassStartedNanos = nextScrubNanos;
        this.applier = new Thread(this::run, "cairn-write-applier");
        this.applier.setDaemon(true);
        this.applier.start();
    }

    /**
     * Queues a request; the future completes with its outcome, or exceptionally with a
     * {@link CairnException} (storage failure: outcome unknown).
     *
     * @throws CairnException at once when the node cannot take the write (overloaded, stalled, failed)
     */
    public Pending submit(WriteRequest request, long deadlineNanos) {
        return enqueue(new Pending(request, null, false, deadlineNanos));
    }

    /**
     * Queues a storage job: {@code job} runs on the applier thread after every job queued before it
     * and after every write completed before it was queued (a write queued just before it, in the
     * same group, is applied after it), against a staging view of the engine whose writes go into
     * the group's batch; it must write only {@link io.cairn.storage.Durability#ASYNC}, and never
     * records or idempotency records (the group's requests read those from the engine). The future completes (with null) once the job ran and, when {@code durable}, a WAL sync
     * covering its writes ended; or exceptionally as {@link #submit}'s does. The job must catch the
     * storage failures it wants to report itself: anything it throws stops the write path, as a
     * bug in the applier does.
     *
     * @throws CairnException at once when the node cannot take the job (overloaded, stalled, failed)
     */
    public Pending submitJob(Consumer<StorageEngine> job, boolean durable, long deadlineNanos) {
        return enqueue(new Pending(null, job, durable, deadlineNanos));
    }

    private Pending enqueue(Pending p) {
        if (failure != null) {
            throw new CairnException(ErrorCode.STORAGE_FAILED, "storage failed; this node accepts no writes until it restarts");
        }
        if (!running) {
            throw new CairnException(ErrorCode.NOT_READY, "the node is shutting down");
        }
        if (storageStalled.getAsBoolean()) {
            throw new CairnException(ErrorCode.STORAGE_STALLED, "storage has stopped writes (compaction or flush backlog); retry shortly");
        }
        if (!queue.offer(p)) {
            throw new CairnException(ErrorCode.OVERLOADED, "the write queue is full (" + queueDepth() + " requests waiting); retry shortly");
        }
        return p;
    }

    public int queueDepth() {
        return queue.size();
    }

    public boolean failed() {
        return failure != null;
    }

    /** The applier thread, for the watchdog: it must live as long as the write path runs. */
    public Thread applierThread() {
        return applier;
    }

    private void run() {
        List<Pending> drained = new ArrayList<>(maxGroupSize);
        List<Pending> group = new ArrayList<>(maxGroupSize);
        while (running) {
            try {
                Pending first = queue.poll(Math.min(sweepDueInNanos(), Math.max(0, nextScrubNanos - System.nanoTime())), TimeUnit.NANOSECONDS);
                if (first != null) {
                    drained.add(first);
                    long bytes = first.bytes;
                    // Only this thread takes from the queue, so the head peeked is the head polled.
                    Pending next;
                    while (drained.size() < maxGroupSize && (next = queue.peek()) != null && bytes + next.bytes <= maxGroupBytes) {
                        drained.add(queue.poll());
                        bytes += next.bytes;
                    }
                    long now = System.nanoTime();
                    for (Pending p : drained) {
                        if (p.start(now)) {
                            group.add(p);
                        }
                    }
                    if (!group.isEmpty()) {
                        applyGroup(group);
                    }
                    drained.clear();
                    group.clear();
                }
                maybeSweep();
                maybeScrub();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException | Error e) {
                // Not a storage error (those fail writes and are handled in applyGroup): a bug (an
                // invariant violation) or an Error. The node cannot write any more; that is fatal.
                // The group's writers are told, not left waiting: what was applying may or may not
                // be stored, what was drained but not started was not.
                failure = e;
                health.fatal("write-applier", e);
                for (Pending p : group) {
                    p.future.completeExceptionally(new CairnException(ErrorCode.OUTCOME_UNKNOWN,
                            "the write path failed while applying this write; it may or may not have been stored"));
                }
                drained.removeAll(group);
                refuseUnstarted(drained);
                failQueued();
                return;
            }
        }
        failQueued();
    }

    /**
     * Applies a group: its jobs first, in queue order, then all its write requests in one batch
     * that starts with the jobs' writes; that batch is synced when the replica's durability or a
     * durable job asks for it (a durable job alone gets its staged writes written synced, or a WAL
     * sync when it wrote nothing), and only then is anyone told. A job thus sees
     * every write that completed before it was queued (those were in earlier groups), not one
     * queued just before it in the same group: both were pending at once, so either order is one
     * the submitters could have seen, and one batch per group is cheaper than one per run of writes.
     */
    private void applyGroup(List<Pending> group) {
        WriteOutcome[] outcomes = new WriteOutcome[group.size()];
        try {
            boolean syncJobs = false;
            List<WriteRequest> requests = new ArrayList<>(group.size());
            for (Pending p : group) {
                if (p.job == null) {
                    requests.add(p.request);
                } else {
                    p.job.accept(staged);
                    syncJobs |= p.durable;
                }
            }
            StorageException lost = staged.takeFailure();
            if (lost != null) {
                // A job's write-through failed: earlier jobs' staged writes went with it, whatever the job made of it.
                throw lost;
            }
            if (!requests.isEmpty()) {
                // The jobs' writes go ahead of the requests' in the same batch, synced if a durable job needs it.
                List<WriteOutcome> applied = replica.apply(requests, staged.drain(), syncJobs);
                int next = 0;
                for (int i = 0; i < group.size(); i++) {
                    if (group.get(i).job == null) {
                        outcomes[i] = applied.get(next++);
                    }
                }
            } else {
                staged.commit(syncJobs);
            }
        } catch (StorageException e) {
            staged.drain(); // Whatever the failed group staged is not the next group's to write.
            failure = e;
            log.atError().setCause(e).addKeyValue("requests", group.size()).log("durable write failed; this node now refuses writes");
            for (Pending p : group) {
                p.future.completeExceptionally(new CairnException(ErrorCode.OUTCOME_UNKNOWN,
                        "storage failed while writing; the write may or may not have been stored"));
            }
            failQueued();
            return;
        }
        for (int i = 0; i < group.size(); i++) {
            group.get(i).future.complete(outcomes[i]);
        }
    }

    private long sweepDueInNanos() {
        return Math.max(0, nextSweepNanos - System.nanoTime());
    }

    private void maybeSweep() {
        long now = System.nanoTime();
        if (now < nextSweepNanos || failure != null) {
            return;
        }
        LocalReplica.SweepResult r;
        try {
            r = replica.sweep(sweepBatchSize, 100_000);
        } catch (StorageException e) {
            log.atWarn().setCause(e).log("TTL sweep failed; will retry");
            nextSweepNanos = now + sweepIntervalNanos;
            return;
        }
        // More due entries: sweep again right after the next group rather than a full interval later.
        nextSweepNanos = r.more() ? now : now + sweepIntervalNanos;
    }

    private void maybeScrub() {
        long now = System.nanoTime();
        if (now < nextScrubNanos || failure != null) {
            return;
        }
        LocalReplica.ScrubStep step;
        try {
            step = replica.scrub(SCRUB_STEP_RECORDS, SCRUB_STEP_BYTES);
        } catch (StorageException e) {
            log.atWarn().setCause(e).log("scrub step failed; will retry");
            nextScrubNanos = now + TimeUnit.MILLISECONDS.toNanos(SCRUB_PASS_PAUSE_MILLIS);
            return;
        }
        boolean building = replica.keepsTrees() && !replica.trees().allReady();
        long pause = building ? 0 : step.bytes() * 1_000_000_000L / scrubBytesPerSecond;
        nextScrubNanos = now + pause;
        if (step.passEnded()) {
            // The next pass: a scrub interval after this one started, and not right away.
            nextScrubNanos = Math.max(nextScrubNanos + TimeUnit.MILLISECONDS.toNanos(SCRUB_PASS_PAUSE_MILLIS),
                    scrubPassStartedNanos + scrubIntervalNanos);
            scrubPassStartedNanos = nextScrubNanos;
        }
    }

    private void failQueued() {
        Pending p;
        while ((p = queue.poll()) != null) {
            refuseUnstarted(List.of(p));
        }
    }

    /** Fails the requests that had not started applying: they were not stored. */
    private static void refuseUnstarted(List<Pending> pending) {
        for (Pending p : pending) {
            if (p.start(System.nanoTime())) {
                p.future.completeExceptionally(new CairnException(ErrorCode.STORAGE_FAILED, "storage failed before this write was applied; it was not stored"));
            }
        }
    }

    @Override
    public void close() {
        running = false;
        applier.interrupt();
        try {
            applier.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * What a request weighs against {@code maxGroupBytes}: every byte it carries into the group's
     * batch, plus a fixed overhead per request and per operation (versions, lengths, index entries).
     * The switch is exhaustive, so a new kind of operation must say what it weighs.
     */
    static long bytesOf(WriteRequest request) {
        if (request == null) {
            return JOB_BYTES; // A storage job: its data is in the message that asked for it.
        }
        long b = REQUEST_OVERHEAD_BYTES;
        if (request.idempotency() != null) {
            b += request.idempotency().key().length() + request.idempotency().fingerprint().length;
        }
        for (Op op : request.ops()) {
            b += OP_OVERHEAD_BYTES + op.key().length + switch (op) {
                case Op.Put p -> p.value().length + length(p.contentType());
                case Op.Apply a -> a.record().value().length + length(a.record().contentType());
                case Op.Delete d -> 0;
                case Op.Get g -> 0;
            };
        }
        return b;
    }

    private static final int REQUEST_OVERHEAD_BYTES = 64;
    private static final int OP_OVERHEAD_BYTES = 32;
    private static final int JOB_BYTES = 256;

    private static int length(String text) {
        return text == null ? 0 : text.length();
    }

    /** A queued request: its outcome future and whether it was applied, dropped, or is running. */
    public static final class Pending {
        private static final int QUEUED = 0;
        private static final int APPLYING = 1;
        private static final int CANCELLED = 2;

        // Exactly one of request and job is set.
        final WriteRequest request;
        final Consumer<StorageEngine> job;
        final boolean durable;
        final CompletableFuture<WriteOutcome> future = new CompletableFuture<>();
        final long deadlineNanos;
        final long bytes;
        private final AtomicInteger state = new AtomicInteger(QUEUED);

        Pending(WriteRequest request, Consumer<StorageEngine> job, boolean durable, long deadlineNanos) {
            this.request = request;
            this.job = job;
            this.durable = durable;
            this.deadlineNanos = deadlineNanos;
            this.bytes = bytesOf(request);
        }

        public CompletableFuture<WriteOutcome> future() {
            return future;
        }

        /** The applier takes it: false when it was cancelled or its deadline passed in the queue. */
        boolean start(long nowNanos) {
            if (nowNanos - deadlineNanos > 0) {
                if (state.compareAndSet(QUEUED, CANCELLED)) {
                    future.completeExceptionally(new CairnException(ErrorCode.OVERLOADED,
                            "the write waited too long in the queue and was not applied; retry shortly"));
                }
                return false;
            }
            return state.compareAndSet(QUEUED, APPLYING);
        }

        /**
         * Called at the deadline by the front end: true when the request was withdrawn before it
         * ran (it will never be applied); false when it is already applying (outcome unknown).
         */
        public boolean cancel() {
            return state.compareAndSet(QUEUED, CANCELLED) || state.get() == CANCELLED;
        }
    }
}
