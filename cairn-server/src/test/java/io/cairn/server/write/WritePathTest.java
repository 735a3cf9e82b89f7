package io.cairn.server.write;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.clock.HybridClock;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.invariant.Invariant;
import io.cairn.clock.ManualClock;
import io.cairn.namespace.Namespace;
import io.cairn.record.Record;
import io.cairn.replica.LocalReplica;
import io.cairn.request.Condition;
import io.cairn.request.Limits;
import io.cairn.request.Op;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import io.cairn.server.health.NodeHealth;
import io.cairn.storage.Durability;
import io.cairn.storage.Keyspace;
import io.cairn.storage.MemoryEngine;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.WriteBatch;
import io.cairn.clock.Version;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The write path's group commit keeps every group within {@code maxGroupBytes}, whatever kind of
 * write fills it: client puts and replica writes ({@link Op.Apply}) weigh what they carry. And a
 * bug while applying is fatal without leaving any writer waiting.
 *
 * <p>Each test holds the applier inside a first "gate" write, queues requests behind it, then lets
 * it go and reads the groups off the engine: one storage batch per group, one data key per request.
 */
class WritePathTest {
    private static final long T = 1_700_000_000_000L;
    private static final long SECONDS = TimeUnit.SECONDS.toNanos(1);

    private final Namespace ns = Namespace.defaults(0);
    private final HybridClock clock = new HybridClock(new ManualClock(T), 1);
    private final GatedEngine engine = new GatedEngine();
    private final LocalReplica replica = new LocalReplica(engine, clock, Durability.SYNC, 0, Limits.DEFAULTS);
    private WritePath writes;

    @AfterEach
    void close() {
        engine.release.countDown();
        if (writes != null) {
            writes.close();
        }
    }

    @Test
    void replicaWritesAreSplitWhenTheyExceedMaxGroupBytes() throws Exception {
        // Each replica write carries a 1,000-byte value: two fit in 2,500 bytes, three do not.
        List<WriteRequest> applies = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            applies.add(apply("r" + i, 1_000));
        }
        assertThat(WritePath.bytesOf(applies.get(0))).isGreaterThan(1_000);

        List<List<String>> groups = runBehindGate(2_500, 100, applies);

        assertThat(groups).containsExactly(List.of("r0", "r1"), List.of("r2", "r3"));
    }

    @Test
    void aRequestLargerThanTheBudgetRunsInAGroupOfItsOwn() throws Exception {
        List<List<String>> groups = runBehindGate(2_500, 100,
                List.of(put("small-1", 10), apply("large", 5_000), put("small-2", 10), put("small-3", 10)));

        assertThat(groups).containsExactly(List.of("small-1"), List.of("large"), List.of("small-2", "small-3"));
    }

    @Test
    void mixedGroupsNeverExceedTheBudgetAndKeepTheQueueOrder() throws Exception {
        Random random = new Random(8);
        long budget = 4_000;
        List<WriteRequest> requests = new ArrayList<>();
        Map<String, Long> weight = new HashMap<>();
        for (int i = 0; i < 60; i++) {
            int size = random.nextInt(random.nextInt(8) == 0 ? 6_000 : 1_500);
            WriteRequest r = random.nextBoolean() ? put("k" + i, size) : apply("k" + i, size);
            requests.add(r);
            weight.put("k" + i, WritePath.bytesOf(r));
        }

        List<List<String>> groups = runBehindGate(budget, 100, requests);

        List<String> applied = new ArrayList<>();
        for (List<String> group : groups) {
            long bytes = group.stream().mapToLong(weight::get).sum();
            assertThat(bytes <= budget || group.size() == 1)
                    .as("group %s weighs %d bytes, over the %d budget", group, bytes, budget).isTrue();
            applied.addAll(group);
        }
        assertThat(applied).isEqualTo(requests.stream().map(r -> new String(r.ops().get(0).key(), StandardCharsets.UTF_8)).toList());
    }

    @Test
    void maxGroupSizeStillBoundsSmallRequests() throws Exception {
        List<List<String>> groups = runBehindGate(1 << 20, 3,
                List.of(apply("a", 1), apply("b", 1), apply("c", 1), apply("d", 1)));

        assertThat(groups).containsExactly(List.of("a", "b", "c"), List.of("d"));
    }

    @Test
    void anInvariantViolationWhileApplyingIsFatalAndEveryWriterIsTold() throws Exception {
        NodeHealth health = new NodeHealth(false, status -> { });
        writes = new WritePath(replica, 1_000, 1, 1 << 20, 3_600_000, 100, () -> false, health);
        WritePath.Pending gate = writes.submit(put(GatedEngine.GATE, 1), System.nanoTime() + 30 * SECONDS);
        assertThat(engine.entered.await(10, TimeUnit.SECONDS)).isTrue();
        engine.brokenBy = "boom";
        WritePath.Pending broken = writes.submit(apply("boom", 10), System.nanoTime() + 30 * SECONDS);
        WritePath.Pending queued = writes.submit(put("after", 10), System.nanoTime() + 30 * SECONDS);
        engine.release.countDown();

        assertThat(gate.future().get(10, TimeUnit.SECONDS)).isInstanceOf(WriteOutcome.Executed.class);
        assertThat(failure(broken)).satisfies(e -> assertThat(e.code()).isEqualTo(ErrorCode.OUTCOME_UNKNOWN));
        assertThat(failure(queued)).satisfies(e -> assertThat(e.code()).isEqualTo(ErrorCode.STORAGE_FAILED));
        assertThat(health.fatalReason()).startsWith("write-applier:").contains("broken on purpose");
        assertThat(writes.failed()).isTrue();
        assertThatThrownBy(() -> writes.submit(put("later", 1), System.nanoTime() + 30 * SECONDS))
                .isInstanceOfSatisfying(CairnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.STORAGE_FAILED));
    }

    @Test
    void aGroupRunsItsJobsInQueueOrderThenWritesTheirWritesAndItsRequestsInOneSyncedBatchBeforeAnyoneIsTold() throws Exception {
        writes = new WritePath(replica, 1_000, 100, 1 << 20, 3_600_000, 100, () -> false, new NodeHealth(false, status -> { }));
        WritePath.Pending gate = writes.submit(put(GatedEngine.GATE, 1), System.nanoTime() + 30 * SECONDS);
        assertThat(engine.entered.await(10, TimeUnit.SECONDS)).as("the applier reached the gate").isTrue();
        List<WritePath.Pending> group = List.of(
                writes.submit(put("a", 1), System.nanoTime() + 30 * SECONDS),
                writes.submitJob(e -> {
                    engine.log.add("job-1");
                    e.write(new WriteBatch().put(state("s1"), bytes("one")), Durability.ASYNC);
                }, true, System.nanoTime() + 30 * SECONDS),
                writes.submit(put("b", 1), System.nanoTime() + 30 * SECONDS),
                writes.submitJob(e -> {
                    // The earlier job's write is not in the engine yet, and this job reads it all the same.
                    engine.log.add("job-2 read " + new String(e.get(state("s1")), StandardCharsets.UTF_8));
                    e.write(new WriteBatch().put(state("s2"), bytes("two")), Durability.ASYNC);
                }, true, System.nanoTime() + 30 * SECONDS));
        assertThat(group).noneMatch(p -> p.future().isDone());
        engine.release.countDown();

        gate.future().get(10, TimeUnit.SECONDS);
        for (WritePath.Pending p : group) {
            p.future().get(10, TimeUnit.SECONDS);
        }
        // One engine write for the group: the jobs' states ahead of the requests' records, synced once.
        assertThat(engine.log).containsExactly("write [gate] SYNC", "job-1", "job-2 read one", "write [state:s1, state:s2, a, b] SYNC");
        assertThat(engine.memory.get(state("s2"))).isEqualTo(bytes("two"));
    }

    @Test
    void aJobSeesTheWritesCompletedBeforeItWasQueuedAndADurableJobAloneIsSynced() throws Exception {
        writes = new WritePath(replica, 1_000, 100, 1 << 20, 3_600_000, 100, () -> false, new NodeHealth(false, status -> { }));
        writes.submit(put("c", 1), System.nanoTime() + 30 * SECONDS).future().get(10, TimeUnit.SECONDS);
        byte[] cKey = Keyspace.data(ns.id(), ns.partitionOf(bytes("c")), bytes("c"));
        List<Boolean> sawC = new CopyOnWriteArrayList<>();
        writes.submitJob(e -> {
            sawC.add(e.get(cKey) != null);
            engine.log.add("job");
        }, true, System.nanoTime() + 30 * SECONDS).future().get(10, TimeUnit.SECONDS);
        writes.submitJob(e -> engine.log.add("note"), false, System.nanoTime() + 30 * SECONDS).future().get(10, TimeUnit.SECONDS);
        writes.submitJob(e -> e.write(new WriteBatch().put(state("x"), bytes("x")), Durability.ASYNC), true,
                System.nanoTime() + 30 * SECONDS).future().get(10, TimeUnit.SECONDS);
        writes.submitJob(e -> e.write(new WriteBatch().put(state("y"), bytes("y")), Durability.ASYNC), false,
                System.nanoTime() + 30 * SECONDS).future().get(10, TimeUnit.SECONDS);

        assertThat(sawC).containsExactly(true);
        // A durable job that wrote nothing still waits for a sync (what it read may be unsynced);
        // one that wrote gets its write synced; a detached one's write is not synced.
        assertThat(engine.log).containsExactly("write [c] SYNC", "job", "sync", "note", "write [state:x] SYNC", "write [state:y] ASYNC");
    }

    @Test
    void withAsyncDurabilityADurableJobStillGetsItsSync() throws Exception {
        LocalReplica async = new LocalReplica(engine, clock, Durability.ASYNC, 0, Limits.DEFAULTS);
        engine.release.countDown();
        writes = new WritePath(async, 1_000, 100, 1 << 20, 3_600_000, 100, () -> false, new NodeHealth(false, status -> { }));
        writes.submit(put("d", 1), System.nanoTime() + 30 * SECONDS).future().get(10, TimeUnit.SECONDS);
        writes.submitJob(e -> engine.log.add("job"), true, System.nanoTime() + 30 * SECONDS).future().get(10, TimeUnit.SECONDS);

        assertThat(engine.log).containsExactly("write [d] ASYNC", "job", "sync");
    }

    @Test
    void aJobThatWritesARecordAheadOfTheGroupsRequestsIsABug() throws Exception {
        NodeHealth health = new NodeHealth(false, status -> { });
        writes = new WritePath(replica, 1_000, 100, 1 << 20, 3_600_000, 100, () -> false, health);
        WritePath.Pending gate = writes.submit(put(GatedEngine.GATE, 1), System.nanoTime() + 30 * SECONDS);
        assertThat(engine.entered.await(10, TimeUnit.SECONDS)).isTrue();
        byte[] eKey = Keyspace.data(ns.id(), ns.partitionOf(bytes("e")), bytes("e"));
        WritePath.Pending job = writes.submitJob(e -> e.write(new WriteBatch().put(eKey, bytes("not a record")), Durability.ASYNC), true,
                System.nanoTime() + 30 * SECONDS);
        WritePath.Pending write = writes.submit(put("e", 1), System.nanoTime() + 30 * SECONDS);
        engine.release.countDown();

        gate.future().get(10, TimeUnit.SECONDS);
        assertThat(failure(job).code()).isEqualTo(ErrorCode.OUTCOME_UNKNOWN);
        assertThat(failure(write).code()).isEqualTo(ErrorCode.OUTCOME_UNKNOWN);
        assertThat(health.fatalReason()).contains("touch what the group reads");
        assertThat(engine.memory.get(eKey)).isNull();
    }

    private static CairnException failure(WritePath.Pending p) throws Exception {
        try {
            p.future().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return (CairnException) e.getCause();
        }
        throw new AssertionError("the write succeeded");
    }

    /**
     * Starts a write path, holds its applier inside a gate write, queues {@code requests} behind
     * it, releases it and returns the groups that followed, as the keys of their requests.
     */
    private List<List<String>> runBehindGate(long maxGroupBytes, int maxGroupSize, List<WriteRequest> requests) throws Exception {
        writes = new WritePath(replica, 1_000, maxGroupSize, maxGroupBytes, 3_600_000, 100, () -> false, new NodeHealth(false, status -> { }));
        WritePath.Pending gate = writes.submit(put(GatedEngine.GATE, 1), System.nanoTime() + 30 * SECONDS);
        assertThat(engine.entered.await(10, TimeUnit.SECONDS)).as("the applier reached the gate").isTrue();
        List<WritePath.Pending> pending = new ArrayList<>();
        for (WriteRequest r : requests) {
            pending.add(writes.submit(r, System.nanoTime() + 30 * SECONDS));
        }
        engine.release.countDown();
        assertThat(gate.future().get(10, TimeUnit.SECONDS)).isInstanceOf(WriteOutcome.Executed.class);
        for (WritePath.Pending p : pending) {
            assertThat(p.future().get(10, TimeUnit.SECONDS)).isInstanceOf(WriteOutcome.Executed.class);
        }
        List<List<String>> groups = new ArrayList<>(engine.groups);
        assertThat(groups.remove(0)).containsExactly(GatedEngine.GATE);
        return groups;
    }

    private WriteRequest put(String key, int valueBytes) {
        return WriteRequest.of(ns, new Op.Put(bytes(key), new byte[valueBytes], null, Op.NO_TTL, Condition.NONE));
    }

    private WriteRequest apply(String key, int valueBytes) {
        Record record = Record.value(new Version(Version.pack(T - 1_000, 0), 2), Record.NO_EXPIRY, "application/octet-stream", new byte[valueBytes]);
        return WriteRequest.of(ns, new Op.Apply(bytes(key), record));
    }

    /** A key in the Paxos states' keyspace, as a job writes. */
    private static byte[] state(String name) {
        byte[] key = new byte[name.length() + 1];
        key[0] = Keyspace.PAXOS;
        System.arraycopy(bytes(name), 0, key, 1, name.length());
        return key;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * A memory engine that records, for every batch holding records, the user keys of those
     * records, and holds the batch writing the gate key until released.
     */
    private static final class GatedEngine implements StorageEngine {
        static final String GATE = "gate";
        // The first byte of the keys the tests' jobs write (the Paxos states' keyspace).
        static final byte STATE = Keyspace.PAXOS;
        final MemoryEngine memory = new MemoryEngine();
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final List<List<String>> groups = new CopyOnWriteArrayList<>();
        // Every batch holding records ("write [keys] DURABILITY") and every WAL sync, in order.
        final List<String> log = new CopyOnWriteArrayList<>();
        // A write holding this key fails an invariant, as a bug below the write path would.
        volatile String brokenBy;

        @Override
        public byte[] get(byte[] key) {
            return memory.get(key);
        }

        @Override
        public void write(WriteBatch batch, Durability durability) {
            List<String> keys = new ArrayList<>();
            List<String> logged = new ArrayList<>();
            for (WriteBatch.Mutation m : batch.mutations()) {
                if (m instanceof WriteBatch.Put p && p.key()[0] == Keyspace.DATA) {
                    keys.add(new String(Keyspace.userKeyOf(p.key()), StandardCharsets.UTF_8));
                    logged.add(keys.getLast());
                } else if (m instanceof WriteBatch.Put p && p.key()[0] == GatedEngine.STATE) {
                    logged.add("state:" + new String(p.key(), 1, p.key().length - 1, StandardCharsets.UTF_8));
                }
            }
            if (brokenBy != null && keys.contains(brokenBy)) {
                throw Invariant.violated("broken on purpose by %s", brokenBy);
            }
            if (keys.contains(GATE)) {
                entered.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            memory.write(batch, durability);
            if (!keys.isEmpty()) {
                groups.add(keys);
            }
            if (!logged.isEmpty()) {
                log.add("write " + logged + " " + durability);
            }
        }

        @Override
        public void syncWal() {
            log.add("sync");
        }

        @Override
        public List<Entry> scan(byte[] fromInclusive, byte[] toExclusive, int limit, long maxBytes) {
            return memory.scan(fromInclusive, toExclusive, limit, maxBytes);
        }

        @Override
        public void close() {
            memory.close();
        }
    }
}
