package io.cairn.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.antientropy.SegmentKeys;
import io.cairn.antientropy.TreeKeeper;
import io.cairn.clock.ClockMonitor;
import io.cairn.clock.HybridClock;
import io.cairn.clock.ManualClock;
import io.cairn.error.ErrorCode;
import io.cairn.invariant.Invariant;
import io.cairn.membership.Member;
import io.cairn.membership.Membership;
import io.cairn.message.Message;
import io.cairn.message.Protocol;
import io.cairn.namespace.Consistency;
import io.cairn.namespace.Namespace;
import io.cairn.namespace.NamespaceSpec;
import io.cairn.placement.Partitioner;
import io.cairn.placement.Placement;
import io.cairn.placement.Quorum;
import io.cairn.record.Record;
import io.cairn.request.Answer;
import io.cairn.replica.LocalReplica;
import io.cairn.replica.LocalStore;
import io.cairn.request.Limits;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import io.cairn.storage.Durability;
import io.cairn.storage.Keyspace;
import io.cairn.storage.MemoryEngine;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.StorageException;
import io.cairn.storage.WriteBatch;
import io.cairn.clock.Version;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClusterNodeTest {
    private static final long T = 1_700_000_000_000L;
    private final ManualClock wall = new ManualClock(T);
    private final ManualScheduler scheduler = new ManualScheduler(wall);
    private final List<Sent> sent = new ArrayList<>();
    private HybridClock clock;
    private LocalReplica replica;

    private record Sent(int to, Message message) {}

    /** Found by the simulator: a write this node's own store refused was hinted to itself, and never handed off. */
    @Test
    void aHintForTheNodeItselfIsHandedToItsOwnReplica() {
        MemoryEngine engine = new MemoryEngine();
        HybridClock clock = new HybridClock(wall, 1);
        LocalReplica replica = new LocalReplica(engine, clock, Durability.SYNC, 0, Limits.DEFAULTS);
        LocalStore direct = LocalStore.direct(replica, engine);
        boolean[] refuse = {true};
        LocalStore store = new LocalStore() {
            @Override
            public void apply(Namespace ns, List<Op> ops, Applied done) {
                if (refuse[0]) {
                    done.accept(null, new StorageException("refused"));
                } else {
                    direct.apply(ns, ops, done);
                }
            }

            @Override
            public void read(Namespace ns, byte[] key, Read done) {
                direct.read(ns, key, done);
            }

            @Override
            public void summary(Namespace ns, int partition, int[] branches, Completed<TreeKeeper.Snapshot> done) {
                direct.summary(ns, partition, branches, done);
            }

            @Override
            public void segmentKeys(Namespace ns, int partition, int[] segments, long maxBytes, Completed<SegmentKeys> done) {
                direct.segmentKeys(ns, partition, segments, maxBytes, done);
            }

            @Override
            public void dropPartition(Namespace ns, int partition, int maxRecords, java.util.function.BooleanSupplier proceed, Completed<Boolean> done) {
                direct.dropPartition(ns, partition, maxRecords, proceed, done);
            }

            @Override
            public <T> void run(Job<T> job, Completed<T> done) {
                direct.run(job, done);
            }
        };
        Namespace ns = Namespace.defaults(0);
        List<Member> members = List.of(new Member(1, "a", "h1:80", "h1:7000"));
        ClusterNode node = new ClusterNode(1, members, ns, new ClusterSettings(1, 500, 8.0, 3_600_000, 1_000, 16,
                CoordinatorSettings.DEFAULTS), clock, (to, m) -> sent.add(new Sent(to, m)), scheduler, store, engine);
        node.start();
        byte[] key = "k".getBytes(StandardCharsets.UTF_8);
        List<Answer> results = new ArrayList<>();

        node.put(ns, key, "v".getBytes(StandardCharsets.UTF_8), null, Op.NO_TTL, Quorum.ONE, results::add);
        assertThat(node.hints().backlog()).containsOnlyKeys(1);

        refuse[0] = false;
        runFor(3_000);

        assertThat(node.hints().pendingCount()).isZero();
        assertThat(replica.readStored(ns, key)).isNotNull();
        assertThat(sent).noneMatch(s -> s.message() instanceof Message.WriteRequest);
    }

    @Test
    void aFallbackKeepsAHintedWriteDurablyBeforeAnsweringAndHandsItOffWhenTheTargetIsBack() {
        MemoryEngine engine = new MemoryEngine();
        Namespace ns = Namespace.defaults(0);
        ClusterNode node = node(engine, List.of(ns));
        node.start();
        byte[] key = "k".getBytes(StandardCharsets.UTF_8);
        Record record = Record.value(new Version(Version.pack(T, 0), 2), Record.NO_EXPIRY, null, "v".getBytes(StandardCharsets.UTF_8));

        node.onMessage(2, new Message.HintedWrite(Message.FIRST_EPOCH, 77, 3, ns.id(), key, record));

        assertThat(responses(2)).containsExactly(new Message.WriteResponse(Protocol.REPLICATION, 77, true, null));
        assertThat(node.hints().backlog()).containsOnlyKeys(3);
        assertThat(node.hintsKeptForPeers()).isEqualTo(1);
        engine.crash();
        assertThat(StoredHints.pending(engine, wall, 3, 10)).hasSize(1);

        // Node 3 comes back: its pings make it alive, and the next replay round hands the hint off.
        sent.clear();
        for (int i = 0; i < 4; i++) {
            node.onMessage(3, new Message.Ping(Message.FIRST_EPOCH, i, wall.nowMillis()));
            runFor(500);
        }
        Message.WriteRequest handoff = sent.stream().filter(s -> s.to() == 3 && s.message() instanceof Message.WriteRequest)
                .map(s -> (Message.WriteRequest) s.message()).findFirst().orElseThrow();
        assertThat(handoff.protocol()).isEqualTo(Protocol.HANDOFF);
        assertThat(handoff.key()).isEqualTo(key);
        assertThat(handoff.record()).isEqualTo(record);
        node.onMessage(3, new Message.WriteResponse(Protocol.HANDOFF, handoff.requestId(), true, null));
        assertThat(node.hints().pendingCount()).isZero();
    }

    @Test
    void aHintedWriteForAnUnknownNamespaceOrANonMemberIsRefused() {
        ClusterNode node = node(new MemoryEngine(), List.of(Namespace.defaults(0)));
        Record record = Record.tombstone(new Version(Version.pack(T, 0), 2));

        node.onMessage(2, new Message.HintedWrite(Message.FIRST_EPOCH, 1, 3, 42, new byte[] {1}, record));
        node.onMessage(2, new Message.HintedWrite(Message.FIRST_EPOCH, 2, 9, Namespace.DEFAULT_ID, new byte[] {1}, record));

        assertThat(responses(2)).extracting(Message.WriteResponse::stored).containsExactly(false, false);
        assertThat(node.hints().pendingCount()).isZero();
    }

    @Test
    void aNodeServesEveryNamespaceItWasGiven() {
        MemoryEngine engine = new MemoryEngine();
        Namespace first = Namespace.defaults(0);
        Namespace second = new Namespace(7, "second", new Partitioner(Namespace.DEFAULT_PARTITIONS), 0);
        ClusterNode node = node(engine, List.of(first, second));
        Record record = Record.value(new Version(Version.pack(T, 0), 2), Record.NO_EXPIRY, null, new byte[] {1});

        node.onMessage(2, new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 1, second.id(), new byte[] {1}, record));
        node.onMessage(2, new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 2, 8, new byte[] {1}, record));

        assertThat(responses(2)).extracting(Message.WriteResponse::stored).containsExactly(true, false);
    }

    @Test
    void namespacesMustBeGivenFitTheOnePartitionMapAndHaveDistinctIds() {
        Namespace first = new Namespace(1, "default", new Partitioner(64), 0);
        MemoryEngine engine = new MemoryEngine();
        assertThatThrownBy(() -> node(engine, List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> node(engine, List.of(first, new Namespace(7, "other", new Partitioner(128), 0))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("more partitions");
        assertThat(node(new MemoryEngine(), List.of(first, new Namespace(7, "fewer", new Partitioner(1), 0)))).isNotNull();
        assertThatThrownBy(() -> node(engine, List.of(first, new Namespace(first.id(), "again", first.partitioner(), 0))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("given twice");
    }

    // ---------------------------------------------------------------- clocks

    @Test
    void aReplicaWriteStampedBeyondTheMaxOffsetIsRefusedCountedAndMovesNeitherClockNorData() {
        Namespace ns = Namespace.defaults(0);
        ClusterNode node = node(new MemoryEngine(), List.of(ns));
        byte[] key = {'k'};
        Record near = Record.value(new Version(Version.pack(T + 400, 0), 2), Record.NO_EXPIRY, null, new byte[] {1});

        node.onMessage(2, new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 1, ns.id(), key, Record.value(new Version(Long.MAX_VALUE, 2), Record.NO_EXPIRY, null, new byte[] {6})));
        node.onMessage(2, new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 2, ns.id(), key, Record.tombstone(new Version(Version.pack(T + 3_600_000, 0), 2))));
        node.onMessage(3, new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 3, ns.id(), key, near));

        assertThat(responses(2)).extracting(Message.WriteResponse::stored).containsExactly(false, false);
        assertThat(clock.lastRefusal()).contains("3600000 ms ahead of node 1's clock", "cluster.maxClockOffset");
        assertThat(responses(3)).containsExactly(new Message.WriteResponse(Protocol.REPLICATION, 3, true, null));
        assertThat(clock.refusals()).isEqualTo(2);
        assertThat(clock.lastTimestamp()).as("moved by the write within the bound only").isEqualTo(near.version().timestamp());
        assertThat(replica.readStored(ns, key)).isEqualTo(near);
        assertThat(node.clockUnsafe()).isNull();
    }

    @Test
    void aNodeThatHeardAPeersClockAheadOfItsOwnStampsItsNextWriteAboveIt() {
        Namespace ns = Namespace.defaults(0);
        ClusterNode node = node(new MemoryEngine(), List.of(ns));
        node.start();
        // Node 2 wrote at a clock 400 ms ahead of this node's (within the 500 ms bound); any message carries it.
        long heard = Version.pack(T + 400, 3);

        node.onMessage(2, heard, new Message.Ping(Message.FIRST_EPOCH, 1, T + 400));
        List<Answer> results = new ArrayList<>();
        node.put(ns, new byte[] {'k'}, new byte[] {1}, null, Op.NO_TTL, Quorum.ONE, results::add);

        assertThat(results).singleElement().satisfies(r -> assertThat(((OpResult.Written) r.result()).version().timestamp())
                .as("answered with a version above the clock heard").isGreaterThan(heard));
        assertThat(replica.readStored(ns, new byte[] {'k'}).version().timestamp()).as("stored above the clock heard").isGreaterThan(heard);
        assertThat(clock.refusals()).isZero();
        assertThat(sent).as("the ping was answered").contains(new Sent(2, new Message.Pong(1, T + 400, T)));
    }

    @Test
    void aPeersClockBeyondTheMaxOffsetIsRefusedCountedAndNotAdoptedButItsMessageIsHandled() {
        Namespace ns = Namespace.defaults(0);
        ClusterNode node = node(new MemoryEngine(), List.of(ns));
        node.start();
        long hourAhead = Version.pack(T + 3_600_000, 0);

        node.onMessage(2, hourAhead, new Message.Ping(Message.FIRST_EPOCH, 1, T));
        node.onMessage(3, Long.MAX_VALUE, new Message.ReadRequest(Protocol.READ, Message.FIRST_EPOCH, 2, ns.id(), new byte[] {'k'}));
        List<Answer> results = new ArrayList<>();
        node.put(ns, new byte[] {'k'}, new byte[] {1}, null, Op.NO_TTL, Quorum.ONE, results::add);

        assertThat(clock.refusals()).isEqualTo(2);
        assertThat(clock.lastRefusal()).contains("ahead of node 1's clock", "cluster.maxClockOffset");
        long stamped = replica.readStored(ns, new byte[] {'k'}).version().timestamp();
        assertThat(stamped >>> Version.LOGICAL_BITS).as("stamped at this node's own clock").isEqualTo(T);
        assertThat(sent).as("the ping was answered").contains(new Sent(2, new Message.Pong(1, T, T)));
        assertThat(sent).as("the read was answered").anyMatch(s -> s.to() == 3 && s.message() instanceof Message.ReadResponse r && r.requestId() == 2);
        assertThat(node.clockUnsafe()).isNull();
    }

    @Test
    void theNodesOwnClockInAMessageToItselfIsNotAPeersAndIsNotJudged() {
        Namespace ns = Namespace.defaults(0);
        ClusterNode node = node(new MemoryEngine(), List.of(ns));

        node.onMessage(1, Version.pack(T + 3_600_000, 0), new Message.Ping(Message.FIRST_EPOCH, 1, T));

        assertThat(clock.refusals()).isZero();
        assertThat(clock.lastTimestamp()).isLessThan(Version.pack(T + 1, 0));
    }

    @Test
    void aHintedWriteStampedBeyondTheMaxOffsetIsRefusedAndNoHintIsKept() {
        Namespace ns = Namespace.defaults(0);
        ClusterNode node = node(new MemoryEngine(), List.of(ns));
        Record future = Record.tombstone(new Version(Version.pack(T + 501, 0), 2));

        node.onMessage(2, new Message.HintedWrite(Message.FIRST_EPOCH, 1, 3, ns.id(), new byte[] {1}, future));

        assertThat(responses(2)).singleElement().satisfies(r -> {
            assertThat(r.stored()).isFalse();
            assertThat(r.error().code()).isEqualTo(io.cairn.error.ErrorCode.CLOCK_UNSAFE);
            assertThat(r.error().message()).contains("501 ms ahead");
        });
        assertThat(node.hints().pendingCount()).isZero();
        assertThat(clock.refusals()).isEqualTo(1);
    }

    @Test
    void heartbeatsCarryClocksAndANodeOffFromItsPeersRefusesWritesUntilTheyAgreeAgain() {
        Namespace ns = Namespace.defaults(0);
        ClusterNode node = node(new MemoryEngine(), List.of(ns));
        node.start();
        runFor(0);
        List<Message.Ping> pings = sent.stream().filter(s -> s.message() instanceof Message.Ping).map(s -> (Message.Ping) s.message()).toList();
        assertThat(pings).hasSize(2).allSatisfy(p -> assertThat(p.sentAtMillis()).isEqualTo(T));

        node.onMessage(2, new Message.Ping(Message.FIRST_EPOCH, 9, 123));
        assertThat(sent.get(sent.size() - 1)).isEqualTo(new Sent(2, new Message.Pong(9, 123, T)));

        // Both peers read 2 s later than this node: it is the outlier.
        wall.advance(4);
        node.onMessage(2, new Message.Pong(pings.get(0).sequence(), T, T + 2 + 2_000));
        node.onMessage(3, new Message.Pong(pings.get(1).sequence(), T, T + 2 + 2_000));
        assertThat(node.clockUnsafe().cause()).isEqualTo(ClockMonitor.Cause.PEER_OFFSETS);
        List<Answer> results = new ArrayList<>();
        node.put(ns, new byte[] {'k'}, new byte[] {1}, null, Op.NO_TTL, Quorum.ONE, results::add);
        assertThat(results).singleElement().satisfies(r -> {
            OpResult.Failed f = (OpResult.Failed) r.result();
            assertThat(f.code()).isEqualTo(ErrorCode.CLOCK_UNSAFE);
            assertThat(f.message()).contains("2000 ms behind n2", "500 ms");
            assertThat(f.details()).containsEntry("cause", "peer_offsets").containsEntry("maxClockOffsetMillis", 500L)
                    .containsEntry("offsetMillis", -2_000L);
        });
        assertThat(node.coordinator().stats().clockUnsafe()).isEqualTo(1);
        assertThat(replica.readStored(ns, new byte[] {'k'})).as("nothing written").isNull();

        // The clock is fixed; the old measurements expire within a few heartbeats and writes resume.
        runFor(ClusterNode.CLOCK_MEASUREMENT_HEARTBEATS * 500L + 1);
        assertThat(node.clockUnsafe()).isNull();
        results.clear();
        node.put(ns, new byte[] {'k'}, new byte[] {1}, null, Op.NO_TTL, Quorum.ONE, results::add);
        assertThat(results).singleElement().extracting(Answer::result).isInstanceOf(OpResult.Written.class);
    }

    @Test
    void aNodeOnAPoisonedDataDirectoryStartsClockUnsafeYetServesReadsAndReplicaWrites() {
        MemoryEngine engine = new MemoryEngine();
        engine.write(new WriteBatch().put(Keyspace.meta("version-ceiling"), ByteBuffer.allocate(8).putLong(Long.MAX_VALUE).array()),
                Durability.SYNC);
        engine.write(new WriteBatch().put(Keyspace.meta("hlc"), ByteBuffer.allocate(8).putLong(Long.MAX_VALUE).array()), Durability.SYNC);
        Namespace ns = Namespace.defaults(0);

        ClusterNode node = node(engine, List.of(ns));
        node.start();

        assertThat(node.clockUnsafe().cause()).isEqualTo(ClockMonitor.Cause.WALL_CLOCK_WENT_BACK);
        List<Answer> results = new ArrayList<>();
        node.delete(ns, new byte[] {'k'}, Quorum.ONE, results::add);
        assertThat(((OpResult.Failed) results.get(0).result()).code()).isEqualTo(ErrorCode.CLOCK_UNSAFE);

        Record fine = Record.value(new Version(Version.pack(T, 0), 2), Record.NO_EXPIRY, null, new byte[] {1});
        node.onMessage(2, new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 5, ns.id(), new byte[] {'k'}, fine));
        assertThat(responses(2)).containsExactly(new Message.WriteResponse(Protocol.REPLICATION, 5, true, null));
        results.clear();
        node.get(ns, new byte[] {'k'}, Quorum.ONE, results::add);
        assertThat(results).singleElement().isEqualTo(Answer.read(new OpResult.Found(fine), 1));
        node.get(ns, new byte[] {'k'}, Quorum.MAJORITY, results::add);
        assertThat(sent).filteredOn(s -> s.message() instanceof Message.ReadRequest).isNotEmpty()
                .allSatisfy(s -> assertThat(((Message.ReadRequest) s.message()).requestId()).isNotNegative());
    }

    @Test
    void aWriteResponseForAHintFromAnotherNodeDoesNotDeliverIt() {
        Namespace ns = Namespace.defaults(0);
        ClusterNode node = node(new MemoryEngine(), List.of(ns));
        node.start();
        Record record = Record.value(new Version(Version.pack(T, 0), 2), Record.NO_EXPIRY, null, new byte[] {1});
        node.onMessage(2, new Message.HintedWrite(Message.FIRST_EPOCH, 77, 3, ns.id(), new byte[] {'k'}, record));
        for (int i = 0; i < 4; i++) {
            node.onMessage(3, new Message.Ping(Message.FIRST_EPOCH, i, wall.nowMillis()));
            runFor(500);
        }
        Message.WriteRequest handoff = sent.stream().filter(s -> s.to() == 3 && s.message() instanceof Message.WriteRequest)
                .map(s -> (Message.WriteRequest) s.message()).findFirst().orElseThrow();
        assertThat(handoff.protocol()).isEqualTo(Protocol.HANDOFF);

        node.onMessage(2, new Message.WriteResponse(Protocol.HANDOFF, handoff.requestId(), true, null));
        assertThat(node.hints().pendingCount()).isEqualTo(1);
        node.onMessage(3, new Message.WriteResponse(Protocol.REPLICATION, handoff.requestId(), true, null));
        node.onMessage(3, new Message.WriteResponse(Protocol.REPAIR, handoff.requestId(), true, null));
        assertThat(node.hints().pendingCount()).as("answers of other protocols with the same id").isEqualTo(1);
        node.onMessage(3, new Message.WriteResponse(Protocol.HANDOFF, handoff.requestId(), true, null));
        assertThat(node.hints().pendingCount()).isZero();
    }

    private static final List<Member> FOUR = List.of(new Member(1, "a", "h1:80", "h1:7000"), new Member(2, "b", "h2:80", "h2:7000"),
            new Member(3, "c", "h3:80", "h3:7000"), new Member(4, "d", "h4:80", "h4:7000"));

    /** A key of {@code ns} whose partition node 1 is (or, {@code replicaHere} false, is not) a replica of at its epoch. */
    private static byte[] keyWhereNode1(ClusterNode node, Namespace ns, boolean replicaHere) {
        for (int i = 0; ; i++) {
            byte[] k = ("k" + i).getBytes(StandardCharsets.UTF_8);
            if (java.util.Arrays.stream(node.membership().map().replicas(ns.partitionOf(k))).anyMatch(n -> n == 1) == replicaHere) {
                return k;
            }
        }
    }

    private List<Message> answersTo(int peer) {
        return sent.stream().filter(x -> x.to() == peer).map(Sent::message).filter(m -> !(m instanceof Message.Ping)).toList();
    }

    @Test
    void aNodeBehindTakesNoWriteNorPaxosStepFromANewerEpochForAPartitionItIsNoReplicaOfAtItsOwn() {
        Namespace ns = Namespace.defaults(0);
        MemoryEngine engine = new MemoryEngine();
        ClusterNode node = node(engine, List.of(ns), (to, m) -> sent.add(new Sent(to, m)), FOUR);
        node.start();
        byte[] foreign = keyWhereNode1(node, ns, false);
        byte[] own = keyWhereNode1(node, ns, true);
        Record record = Record.value(new Version(Version.pack(T, 0), 2), Record.NO_EXPIRY, null, new byte[] {1});
        Version ballot = new Version(Version.pack(T, 1), 2);
        sent.clear();

        // Epoch 2 (which this node has not applied) may make it a replica of the foreign key's
        // partition: it cannot tell yet, so it holds those two until it applies epoch 2 or their
        // deadline passes. The write for its own partition it takes at once.
        node.onMessage(2, new Message.WriteRequest(Protocol.REPLICATION, 2, 5, ns.id(), foreign, record));
        node.onMessage(2, new Message.PaxosRequest(Message.PaxosRequest.Phase.PREPARE, 2, 6, ns.id(), foreign, ballot, null));
        node.onMessage(2, new Message.WriteRequest(Protocol.REPLICATION, 2, 7, ns.id(), own, record));
        assertThat(answersTo(2)).singleElement()
                .satisfies(w -> assertThat(((Message.WriteResponse) w).stored()).as("a replica at its own epoch too").isTrue());
        assertThat(node.heldWhileBehind()).isEqualTo(2);

        // Still behind at their deadline: refused then, and nothing of them stored.
        runFor(CoordinatorSettings.DEFAULTS.requestTimeoutMillis() + 1);
        assertThat(answersTo(2)).satisfiesExactly(
                w -> assertThat(((Message.WriteResponse) w).requestId()).isEqualTo(7),
                w -> assertThat(((Message.WriteResponse) w).error().message()).contains("behind at epoch 1"),
                p -> assertThat(((Message.PaxosResponse) p).error().code()).isEqualTo(io.cairn.error.ErrorCode.EPOCH_MISMATCH));
        assertThat(node.heldWhileBehind()).isZero();
        assertThat(replica.readStored(ns, foreign)).isNull();
        assertThat(replica.readStored(ns, own)).isEqualTo(record);
    }

    /**
     * A coordinator that applied an epoch first sends the partition's new replica a write it cannot
     * take yet; held, it is taken as soon as the replica applies that epoch, so the write's joint
     * quorum is not failed by a replica that was a heartbeat behind.
     */
    @Test
    void aNodeBehindTakesAHeldWriteOnceItAppliesTheEpochThatMakesItAReplica() {
        Namespace ns = Namespace.defaults(0);
        MemoryEngine engine = new MemoryEngine();
        ClusterNode node = node(engine, List.of(ns), (to, m) -> sent.add(new Sent(to, m)), FOUR);
        node.start();
        byte[] foreign = keyWhereNode1(node, ns, false);
        Record record = Record.value(new Version(Version.pack(T, 0), 2), Record.NO_EXPIRY, null, new byte[] {1});
        sent.clear();

        node.onMessage(2, new Message.WriteRequest(Protocol.REPLICATION, 3, 5, ns.id(), foreign, record));
        runFor(100);
        // Epoch 2 is not the request's epoch 3: still held.
        node.onMembership(Membership.of(2, FOUR, ns.partitioner().partitions(), 3));
        assertThat(answersTo(2)).isEmpty();
        assertThat(node.heldWhileBehind()).isEqualTo(1);

        // Epoch 3: node 4 left, so node 1 is a replica of every partition, the foreign key's too.
        node.onMembership(Membership.of(3, FOUR.subList(0, 3), ns.partitioner().partitions(), 3));
        assertThat(answersTo(2)).singleElement().satisfies(w -> {
            assertThat(((Message.WriteResponse) w).requestId()).isEqualTo(5);
            assertThat(((Message.WriteResponse) w).stored()).isTrue();
        });
        assertThat(replica.readStored(ns, foreign)).isEqualTo(record);
        assertThat(node.heldWhileBehind()).isZero();
        runFor(CoordinatorSettings.DEFAULTS.requestTimeoutMillis() + 1);
        assertThat(answersTo(2)).as("answered once: its deadline was called off").hasSize(1);
    }

    @Test
    void aNodeBehindRefusesAtOnceWhatItsHoldHasNoRoomFor() {
        Namespace ns = Namespace.defaults(0);
        MemoryEngine engine = new MemoryEngine();
        long room = 2 * (CatchUpHold.OVERHEAD_BYTES + 3);
        ClusterNode node = node(engine, List.of(ns), (to, m) -> sent.add(new Sent(to, m)), FOUR,
                CoordinatorSettings.DEFAULTS.withBehindHoldBytes(room));
        node.start();
        byte[] foreign = keyWhereNode1(node, ns, false);
        sent.clear();

        for (int i = 0; i < 3; i++) {
            // Each charged its 2-byte key, 1-byte value and the overhead: two fit.
            Record record = Record.value(new Version(Version.pack(T, i), 2), Record.NO_EXPIRY, null, new byte[] {(byte) i});
            node.onMessage(2, new Message.WriteRequest(Protocol.REPLICATION, 2, 10 + i, ns.id(), foreign, record));
        }
        assertThat(node.heldWhileBehind()).isEqualTo(2);
        assertThat(answersTo(2)).singleElement().satisfies(w -> {
            assertThat(((Message.WriteResponse) w).requestId()).isEqualTo(12);
            assertThat(((Message.WriteResponse) w).error().message()).contains("behind at epoch 1");
        });

        ClusterNode never = node(new MemoryEngine(), List.of(ns), (to, m) -> sent.add(new Sent(to, m)), FOUR,
                CoordinatorSettings.DEFAULTS.withBehindHoldBytes(0));
        never.start();
        sent.clear();
        Record record = Record.value(new Version(Version.pack(T, 0), 2), Record.NO_EXPIRY, null, new byte[] {1});
        never.onMessage(2, new Message.WriteRequest(Protocol.REPLICATION, 2, 20, ns.id(), keyWhereNode1(never, ns, false), record));
        assertThat(answersTo(2)).as("cluster.behindHoldBytes=0: refused at once").singleElement()
                .satisfies(w -> assertThat(((Message.WriteResponse) w).stored()).isFalse());
    }

    /**
     * Once a namespace is serial, every record there is chosen by a Paxos round: a plain replica
     * request can only come from a node that has not applied the change (restarted, cut off from
     * the metadata log, a heartbeat behind), and a hint kept from before is no round's record.
     */
    @Test
    void aNamespaceThatBecameSerialTakesNoPlainReplicaRequestAndDropsTheHintsItKeptBefore() {
        Namespace before = LOCKS_QUORUM.toNamespace(Namespace.DEFAULT_PARTITIONS);
        ClusterNode node = node(new MemoryEngine(), List.of(Namespace.defaults(0), before));
        node.start();
        byte[] hinted = "hinted".getBytes(StandardCharsets.UTF_8);
        byte[] key = "k".getBytes(StandardCharsets.UTF_8);
        Record record = Record.value(new Version(Version.pack(T, 0), 2), Record.NO_EXPIRY, null, new byte[] {1});
        // While the namespace is quorum, this node keeps a hint for node 3 as a fallback.
        node.onMessage(2, new Message.HintedWrite(Message.FIRST_EPOCH, 1, 3, before.id(), hinted, record));
        assertThat(responses(2)).extracting(Message.WriteResponse::stored).containsExactly(true);

        locksBecomeSerial(node);
        sent.clear();

        // A coordinator that has not applied epoch 2 (or a hint it kept from before) is refused, and nothing is stored.
        node.onMessage(2, new Message.WriteRequest(Protocol.REPLICATION, 1, 10, before.id(), key, record));
        node.onMessage(2, new Message.WriteRequest(Protocol.REPAIR, 1, 11, before.id(), key, record));
        node.onMessage(2, new Message.WriteRequest(Protocol.HANDOFF, 2, 12, before.id(), key, record));
        node.onMessage(2, new Message.HintedWrite(1, 13, 3, before.id(), key, record));
        node.onMessage(2, new Message.ReadRequest(Protocol.READ, 1, 14, before.id(), key));
        assertThat(sent).extracting(Sent::message).hasSize(5).allSatisfy(m -> {
            Message.Failure error = m instanceof Message.WriteResponse w ? w.error() : ((Message.ReadResponse) m).error();
            assertThat(error.code()).isEqualTo(ErrorCode.EPOCH_MISMATCH);
            assertThat(error.message()).contains("namespace locks is serial at membership epoch 2");
        });
        assertThat(responses(2)).extracting(Message.WriteResponse::stored).containsOnly(false);
        assertThat(replica.readStored(before, key)).isNull();
        assertThat(node.hints().backlog()).as("the refused hinted write kept nothing").containsOnlyKeys(3);

        // Nor may it run a Paxos round there: holding the namespace quorum, it would answer a serial
        // read from the newest copy without finishing it (a stray its own replica took, say).
        sent.clear();
        Version ballot = new Version(Version.pack(T + 5, 0), 2);
        node.onMessage(2, new Message.PaxosRequest(Message.PaxosRequest.Phase.PREPARE, 1, 17, before.id(), key, ballot, null));
        assertThat(sent).extracting(Sent::message).singleElement().isInstanceOfSatisfying(Message.PaxosResponse.class, r -> {
            assertThat(r.error().code()).isEqualTo(ErrorCode.EPOCH_MISMATCH);
            assertThat(r.error().message()).contains("serial on node 1 since membership epoch 2");
        });
        sent.clear();
        node.onMessage(2, new Message.PaxosRequest(Message.PaxosRequest.Phase.PREPARE, 2, 18, before.id(), key, ballot, null));
        assertThat(sent).extracting(Sent::message).singleElement().isInstanceOfSatisfying(Message.PaxosResponse.class,
                r -> assertThat(r.error()).as("a proposer at the epoch of the change").isNull());

        // Anti-entropy's copies of records replicas hold, and an operator's inspection, still are served.
        sent.clear();
        node.onMessage(2, new Message.WriteRequest(Protocol.EXCHANGE_PUSH, 2, 15, before.id(), key, record));
        node.onMessage(2, new Message.ReadRequest(Protocol.INSPECTION, 2, 16, before.id(), key));
        assertThat(responses(2)).extracting(Message.WriteResponse::stored).containsExactly(true);
        assertThat(sent).extracting(Sent::message).filteredOn(m -> m instanceof Message.ReadResponse)
                .singleElement().satisfies(m -> assertThat(((Message.ReadResponse) m).error()).isNull());

        // Node 3 comes back: the hint kept while the namespace was quorum is dropped, not handed off.
        sent.clear();
        for (int i = 0; i < 4; i++) {
            node.onMessage(3, new Message.Ping(2, i, wall.nowMillis()));
            runFor(500);
        }
        assertThat(sent).extracting(Sent::message).noneMatch(m -> m instanceof Message.WriteRequest);
        assertThat(node.hints().pendingCount()).isZero();
        assertThat(node.hintsDropped()).isEqualTo(1);
    }

    /**
     * A serial read this node began while it held a namespace {@code quorum}, whose round the
     * replicas refused (they hold it serial since epoch 2), retries once the node applied epoch 2:
     * the retry is a round of a serial namespace, and finishes the stray record on this node's own
     * replica before answering anything, where a retry still running the old class (its messages
     * now at epoch 2, which replicas take) answered the stray, and a read through another node
     * missed it. The simulator found that.
     */
    @Test
    void aSerialReadBegunBeforeAChangeToSerialRetriesAsARoundOfTheNewClass() {
        Namespace before = LOCKS_QUORUM.toNamespace(Namespace.DEFAULT_PARTITIONS);
        ClusterNode node = startedWithPeersUp(List.of(Namespace.defaults(0), before));
        byte[] key = "k".getBytes(StandardCharsets.UTF_8);
        // A plain write this node's replica took while the namespace was quorum here, and no other replica has.
        Record stray = Record.value(new Version(Version.pack(T, 0), 2), Record.NO_EXPIRY, null, new byte[] {7});
        node.onMessage(2, new Message.WriteRequest(Protocol.REPLICATION, 1, 10, before.id(), key, stray));
        assertThat(responses(2)).extracting(Message.WriteResponse::stored).containsExactly(true);

        sent.clear();
        List<Answer> answers = new ArrayList<>();
        node.serialGet(before, key, answers::add);
        List<Message.PaxosRequest> first = paxosRequests();
        assertThat(first).isNotEmpty().allSatisfy(r -> assertThat(r.epoch()).isEqualTo(1));
        for (Sent s : List.copyOf(sent)) {
            if (s.message() instanceof Message.PaxosRequest r) {
                node.onMessage(s.to(), Message.PaxosResponse.failed(r.phase(), r.requestId(),
                        new Message.Failure(ErrorCode.EPOCH_MISMATCH, "namespace locks is serial on node " + s.to() + " since membership epoch 2")));
            }
        }
        locksBecomeSerial(node);

        sent.clear();
        for (int i = 0; i < 100 && paxosRequests().isEmpty(); i++) {
            runFor(50);
        }
        Message.PaxosRequest retry = paxosRequests().get(0);
        assertThat(retry.phase()).isEqualTo(Message.PaxosRequest.Phase.PREPARE);
        assertThat(retry.epoch()).as("the retry's round is of epoch 2").isEqualTo(2);
        int to = sent.stream().filter(s -> s.message() == retry).findFirst().orElseThrow().to();
        sent.clear();
        // That replica promises, holding no record of the key: with this node's own promise, a majority.
        node.onMessage(to, new Message.PaxosResponse(Message.PaxosRequest.Phase.PREPARE, retry.requestId(), true, retry.ballot(), null, null,
                null, List.of(), null, null, null));

        assertThat(answers).as("the stray is not answered before a majority holds it").isEmpty();
        assertThat(paxosRequests()).as("it is proposed again, keeping its version, to be finished")
                .anySatisfy(r -> {
                    assertThat(r.phase()).isEqualTo(Message.PaxosRequest.Phase.PROPOSE);
                    assertThat(r.record().version()).isEqualTo(stray.version());
                    assertThat(r.epoch()).isEqualTo(2);
                });
    }

    /**
     * A conditional write whose proposal only this node's replica accepted (the others refused it
     * for a rival's higher ballot) meets the rival's record at its next prepare, where one replica
     * refuses again. Its promises cannot rule the proposal out (one is missing), yet the refusing
     * replica is alive: the write tries another round rather than answer {@code outcome_unknown},
     * and once every replica promised, with none listing the proposal among its commits, it is
     * ruled out and the write answers what the condition says (412, naming the rival's version).
     * Before, the refusal was answered 504 at once: 4 % of the answers of four clients swapping
     * one key through three nodes.
     */
    @Test
    void aRivalsRefusalWhileRulingOutAProposalRetriesTheRoundInsteadOfAnsweringUnknown() {
        Namespace ns = Namespace.defaults(0);
        ClusterNode node = startedWithPeersUp(List.of(ns));
        byte[] key = "k".getBytes(StandardCharsets.UTF_8);
        sent.clear();
        List<WriteOutcome> outcomes = new ArrayList<>();
        node.execute(new WriteRequest(ns, List.of(new Op.Put(key, new byte[] {1}, null, Op.NO_TTL, io.cairn.request.Condition.ifAbsent())),
                null, null), null, Quorum.MAJORITY, outcomes::add);

        // Round 1: a peer promises; the proposal is refused by both peers (only this node accepted it).
        Message.PaxosRequest prepare = onlyPaxosRequest(Message.PaxosRequest.Phase.PREPARE);
        answerPaxos(node, prepare, ok(prepare, null, List.of()));
        Version rivalBallot = new Version(Version.pack(wall.nowMillis() + 5, 0), 2);
        for (int i = 0; i < 2; i++) {
            Message.PaxosRequest propose = onlyPaxosRequest(Message.PaxosRequest.Phase.PROPOSE);
            answerPaxos(node, propose, Message.PaxosResponse.refused(propose.phase(), propose.requestId(), rivalBallot));
        }
        assertThat(outcomes).isEmpty();

        // Round 2, to every replica: node 2 promises and holds the rival's record; node 3 refuses.
        // (Stamped below the rival's ballot, which this node's next ballot is above: it decides on
        // it rather than start over above it.)
        Record rival = Record.value(new Version(Version.pack(wall.nowMillis() + 2, 0), 2), Record.NO_EXPIRY, null, new byte[] {2});
        Message.PaxosRequest second = nextPrepare();
        List<Sent> round2 = List.copyOf(sent);
        sent.clear();
        for (Sent s : round2) {
            if (s.message() == second) {
                node.onMessage(s.to(), s.to() == 2 ? ok(second, rival, List.of(rival.version()))
                        : Message.PaxosResponse.refused(second.phase(), second.requestId(), new Version(Version.pack(wall.nowMillis() + 15, 0), 3)));
            }
        }
        assertThat(outcomes).as("a refusal is no reason to answer unknown").isEmpty();

        // Round 3: both promise, neither lists the proposal among its commits: ruled out.
        Message.PaxosRequest third = nextPrepare();
        List<Sent> round3 = List.copyOf(sent);
        sent.clear();
        for (Sent s : round3) {
            if (s.message() == third) {
                node.onMessage(s.to(), ok(third, rival, List.of(rival.version())));
            }
        }
        assertThat(outcomes).singleElement().isInstanceOfSatisfying(WriteOutcome.Executed.class, e -> assertThat(e.results())
                .singleElement().isEqualTo(new OpResult.PreconditionFailed(rival.version())));
    }

    /**
     * A bare-majority phase goes to the live peer with the fewest unanswered Paxos requests: while
     * node 2 answers nothing (its threads waiting for a core) and node 3 answers at once, at most
     * one of six conditional writes of different keys waits on node 2. Taken in turn, as before,
     * several of them did, each until the hedge.
     */
    @Test
    void aBareMajorityPhaseGoesToThePeerWithTheFewestUnansweredRequests() {
        Namespace ns = Namespace.defaults(0);
        ClusterNode node = startedWithPeersUp(List.of(ns));
        sent.clear();
        List<Integer> firstPeers = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            byte[] key = ("key-" + i).getBytes(StandardCharsets.UTF_8);
            node.execute(new WriteRequest(ns, List.of(new Op.Put(key, new byte[] {1}, null, Op.NO_TTL, io.cairn.request.Condition.ifAbsent())),
                    null, null), null, Quorum.MAJORITY, outcome -> {});
            List<Message.PaxosRequest> prepares = paxosRequests();
            assertThat(prepares).as("a bare majority: this node and one peer").singleElement()
                    .satisfies(r -> assertThat(r.phase()).isEqualTo(Message.PaxosRequest.Phase.PREPARE));
            firstPeers.add(sent.stream().filter(s -> s.message() == prepares.get(0)).findFirst().orElseThrow().to());
            // Node 3 answers every phase it is sent (prepare, proposal, commit); node 2 none.
            for (List<Sent> now = List.copyOf(sent); !now.isEmpty(); now = List.copyOf(sent)) {
                sent.clear();
                for (Sent s : now) {
                    if (s.to() == 3 && s.message() instanceof Message.PaxosRequest r) {
                        node.onMessage(3, r.phase() == Message.PaxosRequest.Phase.PREPARE ? ok(r, null, List.of())
                                : Message.PaxosResponse.done(r.phase(), r.requestId()));
                    }
                }
            }
        }
        assertThat(firstPeers.stream().filter(peer -> peer == 2).count()).as("prepares waiting on the peer that answers nothing, of %s",
                firstPeers).isLessThanOrEqualTo(1);
    }

    /**
     * A batch's reads through a coordinator return at most {@code limits.maxBatchReadBytes} of
     * values, counted as they answer: past it a get answers {@code response_too_large} (its value
     * dropped on arrival, not held until the batch is done), a smaller one still fits.
     */
    @Test
    void aBatchsReadsThroughThisCoordinatorReturnAtMostTheReadLimit() {
        Namespace ns = Namespace.defaults(0);
        MemoryEngine engine = new MemoryEngine();
        clock = new HybridClock(wall, 1);
        replica = new LocalReplica(engine, clock, Durability.SYNC, 0, Limits.DEFAULTS);
        ClusterNode node = new ClusterNode(1, List.of(new Member(1, "a", "h1:80", "h1:7000"), new Member(2, "b", "h2:80", "h2:7000"),
                new Member(3, "c", "h3:80", "h3:7000")), List.of(ns), null, new ClusterSettings(3, 500, 8.0, 3_600_000, 500, 16,
                CoordinatorSettings.DEFAULTS.withSloppyQuorum(true).withMaxBatchReadBytes(250)), clock, (to, m) -> sent.add(new Sent(to, m)),
                scheduler, LocalStore.direct(replica, engine), engine);
        node.start();
        node.onMessage(2, new Message.Ping(Message.FIRST_EPOCH, 0, wall.nowMillis()));
        node.onMessage(3, new Message.Ping(Message.FIRST_EPOCH, 0, wall.nowMillis()));
        byte[] k = {'k'};
        byte[] small = {'s'};
        LocalStore.direct(replica, engine).apply(ns, List.of(new Op.Apply(k, Record.value(new Version(Version.pack(T, 0), 1), Record.NO_EXPIRY, null,
                new byte[100])), new Op.Apply(small, Record.value(new Version(Version.pack(T, 1), 1), Record.NO_EXPIRY, null, new byte[10]))),
                (results, failure) -> { });
        List<WriteOutcome> outcomes = new ArrayList<>();
        node.execute(new WriteRequest(ns, List.of(new Op.Get(k), new Op.Get(k), new Op.Get(k), new Op.Get(small)), null, null), Quorum.ONE,
                Quorum.MAJORITY, outcomes::add);
        runFor(100);
        assertThat(outcomes).singleElement().isInstanceOfSatisfying(WriteOutcome.Executed.class, e -> {
            assertThat(e.results().get(0)).isInstanceOf(OpResult.Found.class);
            assertThat(e.results().get(1)).isInstanceOf(OpResult.Found.class);
            assertThat(e.results().get(2)).isInstanceOfSatisfying(OpResult.Failed.class,
                    f -> assertThat(f.code()).isEqualTo(io.cairn.error.ErrorCode.RESPONSE_TOO_LARGE));
            assertThat(e.results().get(3)).as("210 bytes fit").isInstanceOf(OpResult.Found.class);
        });
    }

    /** The only Paxos request sent since {@link #sent} was last cleared (to one peer), which must be of {@code phase}. */
    private Message.PaxosRequest onlyPaxosRequest(Message.PaxosRequest.Phase phase) {
        List<Message.PaxosRequest> requests = paxosRequests();
        assertThat(requests).singleElement().satisfies(r -> assertThat(r.phase()).isEqualTo(phase));
        return requests.get(0);
    }

    /** Answers {@code request} from the peer it went to, after clearing {@link #sent}. */
    private void answerPaxos(ClusterNode node, Message.PaxosRequest request, Message.PaxosResponse answer) {
        int to = sent.stream().filter(s -> s.message() == request).findFirst().orElseThrow().to();
        sent.clear();
        node.onMessage(to, answer);
    }

    /** Runs the scheduler until a retried round's prepare has gone out, and returns it. */
    private Message.PaxosRequest nextPrepare() {
        for (int i = 0; i < 200 && paxosRequests().isEmpty(); i++) {
            runFor(10);
        }
        List<Message.PaxosRequest> requests = paxosRequests();
        assertThat(requests).isNotEmpty().allSatisfy(r -> assertThat(r.phase()).isEqualTo(Message.PaxosRequest.Phase.PREPARE));
        return requests.get(0);
    }

    /** A promise of {@code prepare}'s ballot by a replica holding {@code current} (or nothing) that applied the commits {@code recent}. */
    private static Message.PaxosResponse ok(Message.PaxosRequest prepare, Record current, List<Version> recent) {
        return new Message.PaxosResponse(prepare.phase(), prepare.requestId(), true, prepare.ballot(), null, null,
                current == null ? null : current.version(), recent, null, current, null);
    }

    private static final NamespaceSpec LOCKS_QUORUM = new NamespaceSpec(NamespaceSpec.FIRST_USER_ID, "locks", Consistency.QUORUM, null, null, 0, 0);

    /** Epoch 2, the same members: namespace {@code locks} becomes serial. */
    private static void locksBecomeSerial(ClusterNode node) {
        List<Member> members = node.membership().members();
        node.onMembership(new Membership(2, members, Placement.compute(2, members, Namespace.DEFAULT_PARTITIONS, 3), 0, false,
                List.of(new NamespaceSpec(LOCKS_QUORUM.id(), LOCKS_QUORUM.name(), Consistency.SERIAL, null, null, 0, 0))));
    }

    private List<Message.PaxosRequest> paxosRequests() {
        return sent.stream().filter(s -> s.message() instanceof Message.PaxosRequest).map(s -> (Message.PaxosRequest) s.message()).toList();
    }

    @Test
    void aRequestFromTwoStepsBeforeItsPartitionsAssignmentIsRefusedAndANewerOneIsServed() {
        Namespace ns = Namespace.defaults(0);
        MemoryEngine engine = new MemoryEngine();
        ClusterNode node = node(engine, List.of(ns));
        node.start();
        byte[] k = {'k'};
        int partition = ns.partitionOf(k);
        // Node 3 is replaced by node 4: every partition moves (epoch 2); node 4 holds k's partition (epoch 3).
        io.cairn.metadata.ClusterState s = io.cairn.metadata.ClusterState.bootstrap(node.membership().members(), ns.partitioner().partitions(), 3);
        s = io.cairn.metadata.ClusterMetadata.apply(s, new io.cairn.metadata.MetadataCommand.Replace(3, new Member(4, "c", "h4:80", "h4:7000"), false)).state();
        node.onMembership(s.membership());
        s = io.cairn.metadata.ClusterMetadata.apply(s, new io.cairn.metadata.MetadataCommand.StreamDone(s.plan().id(), partition, 4)).state();
        node.onMembership(s.membership());
        assertThat(node.epoch()).isEqualTo(3);
        assertThat(node.membership().map().previousSince(partition)).isEqualTo(2);
        Record record = Record.value(new Version(Version.pack(T, 0), 2), Record.NO_EXPIRY, null, new byte[] {1});
        sent.clear();

        node.onMessage(2, new Message.WriteRequest(Protocol.REPLICATION, 1, 5, ns.id(), k, record));
        node.onMessage(2, new Message.ReadRequest(Protocol.INSPECTION, 1, 6, ns.id(), k));
        node.onMessage(2, new Message.HintedWrite(1, 8, 3, ns.id(), k, record));

        List<Message> answers = sent.stream().filter(x -> x.to() == 2).map(Sent::message).filter(m -> !(m instanceof Message.Ping)).toList();
        assertThat(answers).hasSize(3);
        assertThat(answers.get(0)).isInstanceOfSatisfying(Message.WriteResponse.class, w -> {
            assertThat(w.protocol()).isEqualTo(Protocol.REPLICATION);
            assertThat(w.stored()).isFalse();
            assertThat(w.error().code()).isEqualTo(io.cairn.error.ErrorCode.EPOCH_MISMATCH);
            assertThat(w.error().message()).contains("epoch 1").contains("epoch 3");
        });
        assertThat(answers.get(1)).isInstanceOfSatisfying(Message.ReadResponse.class, r -> {
            assertThat(r.protocol()).isEqualTo(Protocol.INSPECTION);
            assertThat(r.error().code()).isEqualTo(io.cairn.error.ErrorCode.EPOCH_MISMATCH);
        });
        assertThat(node.hints().pendingCount()).as("nothing was stored").isZero();
        assertThat(replica.readStored(ns, k)).isNull();
        assertThat(node.epochMismatches()).isEqualTo(3);

        sent.clear();
        // The step before (epoch 2) and a newer epoch (a peer that applied more) are compatible: served.
        node.onMessage(2, new Message.WriteRequest(Protocol.REPLICATION, 2, 9, ns.id(), k, record));
        node.onMessage(2, new Message.ReadRequest(Protocol.INSPECTION, 7, 10, ns.id(), k));
        assertThat(sent).extracting(Sent::message).filteredOn(m -> !(m instanceof Message.Ping)).satisfiesExactly(
                w -> assertThat(((Message.WriteResponse) w).stored()).isTrue(),
                r -> assertThat(((Message.ReadResponse) r).record()).isEqualTo(record));
        assertThat(node.newestEpochSeen()).isEqualTo(7);

        node.onMessage(3, new Message.Ping(9, 1, wall.nowMillis()));
        assertThat(sent).anyMatch(x -> x.to() == 3 && x.message() instanceof Message.Pong);
        assertThat(node.newestEpochSeen()).isEqualTo(9);
    }

    @Test
    void anIncomingReplicaStreamsItsPartitionFromEveryOwnerOnceAllMembersAppliedTheMoveThenReportsIt() {
        Namespace ns = Namespace.defaults(0);
        List<Member> three = List.of(new Member(1, "a", "h1:80", "h1:7000"), new Member(2, "b", "h2:80", "h2:7000"),
                new Member(3, "c", "h3:80", "h3:7000"));
        io.cairn.metadata.ClusterState s = io.cairn.metadata.ClusterState.bootstrap(three, ns.partitioner().partitions(), 3);
        s = io.cairn.metadata.ClusterMetadata.apply(s, new io.cairn.metadata.MetadataCommand.Replace(3, new Member(4, "c", "h4:80", "h4:7000"), false)).state();
        MemoryEngine engine = new MemoryEngine();
        clock = new HybridClock(wall, 4);
        replica = new LocalReplica(engine, clock, Durability.SYNC, 0, Limits.DEFAULTS);
        List<io.cairn.metadata.MetadataCommand> proposed = new ArrayList<>();
        ClusterNode node = new ClusterNode(4, Shard.ONLY, s.membership(), List.of(ns), null, new ClusterSettings(3, 100, 8.0, 3_600_000, 500, 16,
                CoordinatorSettings.DEFAULTS).withMoves(new MoveSettings(ns.partitioner().partitions(), 1 << 20, 1L << 40, 250, 1_000)), clock, (to, m) -> sent.add(new Sent(to, m)), scheduler, LocalStore.direct(replica, engine), engine,
                new io.cairn.antientropy.PurgeLedger(), new NodeEpochs(1, s.epoch()), proposed::add);
        node.start();
        byte[] k = {'k'};
        int partition = ns.partitionOf(k);
        Record older = Record.value(new Version(Version.pack(T - 10, 0), 1), Record.NO_EXPIRY, null, new byte[] {1});
        Record newer = Record.value(new Version(Version.pack(T - 5, 0), 2), Record.NO_EXPIRY, null, new byte[] {2});

        runFor(1_000);
        assertThat(sent).as("no stream before every member applied the move").noneMatch(x -> x.message() instanceof Message.StreamRequest);
        for (int i = 0; i < 3; i++) {
            node.onMessage(1, new Message.Ping(s.epoch(), i, wall.nowMillis()));
            node.onMessage(2, new Message.Ping(s.epoch(), i, wall.nowMillis()));
            runFor(100);
        }
        // Owner 1 holds the older copy; owner 2 the newer: both are streamed, in the owners' order, the newest kept.
        // Then each owner's Paxos states of the partition: owner 1 accepted a proposal that no round
        // finished (at ballot b2, over a promise of b1); owner 2 promised a higher ballot b3.
        Version b1 = new Version(Version.pack(T - 4, 0), 1);
        Version b2 = new Version(Version.pack(T - 3, 0), 2);
        Version b3 = new Version(Version.pack(T - 2, 0), 3);
        Record proposal = Record.value(b2, Record.NO_EXPIRY, null, new byte[] {3});
        io.cairn.paxos.PaxosState onOwner1 = io.cairn.paxos.PaxosState.EMPTY.promise(b1).accept(b2, proposal);
        io.cairn.paxos.PaxosState onOwner2 = io.cairn.paxos.PaxosState.EMPTY.promise(b3);
        // Owner 2 also noted the commit of a record of key k2 that came after its records were
        // streamed here (and whose commit message this replica missed): it comes with the state.
        byte[] k2 = keysIn(ns, partition, 8).stream().filter(x -> java.util.Arrays.compareUnsigned(x, k) > 0).findFirst().orElseThrow();
        Version b4 = new Version(Version.pack(T - 1, 0), 2);
        Record chosen = Record.value(b4, Record.NO_EXPIRY, null, new byte[] {4});
        io.cairn.paxos.PaxosState committedOnOwner2 = io.cairn.paxos.PaxosState.EMPTY.promise(b4).accept(b4, chosen).commit(b4, b4);
        for (int owner : s.membership().map().slot(partition).owners()) {
            Message.StreamRequest request = awaitStreamRequest(partition, owner, Message.StreamRequest.Part.RECORDS);
            assertThat(request.after()).isNull();
            node.onMessage(owner, new Message.StreamResponse(request.requestId(),
                    List.of(new Message.StreamEntry(k, owner == 1 ? older : newer)), true, null));
            runFor(50);
            Message.StreamRequest states = awaitStreamRequest(partition, owner, Message.StreamRequest.Part.PAXOS_STATES);
            node.onMessage(owner, new Message.StateStreamResponse(states.requestId(), owner == 1 ? List.of(new Message.StateEntry(k, onOwner1))
                    : List.of(new Message.StateEntry(k, onOwner2, newer), new Message.StateEntry(k2, committedOnOwner2, chosen)), true, null));
            runFor(50);
        }
        assertThat(replica.readStored(ns, k)).isEqualTo(newer);
        // A commit this replica now knows of comes with its record: a prepare it answers reports both.
        assertThat(replica.readStored(ns, k2)).isEqualTo(chosen);
        assertThat(io.cairn.paxos.PaxosState.decode(k2, engine.get(io.cairn.storage.Keyspace.paxos(ns.id(), partition, k2))).committed())
                .isEqualTo(b4);
        // The incoming replica now refuses what either owner refused and reports owner 1's proposal to a prepare.
        io.cairn.paxos.PaxosState joined = io.cairn.paxos.PaxosState.decode(k, engine.get(io.cairn.storage.Keyspace.paxos(ns.id(), partition, k)));
        assertThat(joined.promised()).isEqualTo(b3);
        assertThat(joined.ballot()).isEqualTo(b2);
        assertThat(joined.accepted()).isEqualTo(proposal);
        assertThat(node.moveStats().statesStreamed()).isEqualTo(3);
        assertThat(proposed).contains(new io.cairn.metadata.MetadataCommand.StreamsDone(s.plan().id(), 4, new int[] {partition}));

        // A chunk with a key of another partition is refused, not stored.
        sent.clear();
        int other = (partition + 1) % ns.partitioner().partitions();
        byte[] foreign = null;
        for (int i = 0; foreign == null; i++) {
            byte[] candidate = ("x" + i).getBytes(StandardCharsets.UTF_8);
            if (ns.partitionOf(candidate) != partition && ns.partitionOf(candidate) != other) {
                foreign = candidate;
            }
        }
        Message.StreamRequest next = awaitStreamRequest(other, 1, Message.StreamRequest.Part.RECORDS);
        node.onMessage(1, new Message.StreamResponse(next.requestId(), List.of(new Message.StreamEntry(foreign, older)), true, null));
        runFor(50);
        assertThat(replica.readStored(ns, foreign)).isNull();
        long errors = node.moveStats().streamErrors();
        assertThat(errors).isPositive();

        // So is a Paxos state of another partition's key, or one whose ballot is beyond the clock bound.
        next = awaitStreamRequest(other, 1, Message.StreamRequest.Part.RECORDS);
        node.onMessage(1, new Message.StreamResponse(next.requestId(), List.of(), true, null));
        runFor(50);
        Message.StreamRequest states = awaitStreamRequest(other, 1, Message.StreamRequest.Part.PAXOS_STATES);
        node.onMessage(1, new Message.StateStreamResponse(states.requestId(), List.of(new Message.StateEntry(foreign, onOwner2)), true, null));
        runFor(50);
        assertThat(engine.get(io.cairn.storage.Keyspace.paxos(ns.id(), other, foreign))).isNull();
        assertThat(node.moveStats().streamErrors()).isGreaterThan(errors);
        byte[] own = keysIn(ns, other, 1).get(0);
        Version ahead = new Version(Version.pack(wall.nowMillis() + 60_000, 0), 1);
        states = awaitStreamRequest(other, 1, Message.StreamRequest.Part.PAXOS_STATES);
        node.onMessage(1, new Message.StateStreamResponse(states.requestId(),
                List.of(new Message.StateEntry(own, io.cairn.paxos.PaxosState.EMPTY.promise(ahead))), true, null));
        runFor(50);
        assertThat(engine.get(io.cairn.storage.Keyspace.paxos(ns.id(), other, own))).isNull();
        // Refused, not skipped: the same chunk is asked for again.
        assertThat(awaitStreamRequest(other, 1, Message.StreamRequest.Part.PAXOS_STATES).after()).isNull();
    }

    @Test
    void anOwnerAnswersAStreamRequestWithItsRecordsInKeyOrderChunkByChunk() {
        Namespace ns = Namespace.defaults(0);
        MemoryEngine engine = new MemoryEngine();
        ClusterNode node = node(engine, List.of(ns));
        node.start();
        int partition = ns.partitionOf(new byte[] {'k'});
        List<byte[]> keys = keysIn(ns, partition, 5);
        for (int i = 0; i < keys.size(); i++) {
            Record r = Record.value(new Version(Version.pack(T, i), 1), Record.NO_EXPIRY, null, new byte[200]);
            LocalStore.direct(replica, engine).apply(ns, List.of(new Op.Apply(keys.get(i), r)), (results, failure) -> { });
        }
        sent.clear();
        node.onMessage(2, new Message.StreamRequest(Message.FIRST_EPOCH, 77, ns.id(), partition, null, 1_024));
        Message.StreamResponse first = (Message.StreamResponse) sent.stream().map(Sent::message).filter(m -> m instanceof Message.StreamResponse)
                .findFirst().orElseThrow();
        assertThat(first.requestId()).isEqualTo(77);
        assertThat(first.entries()).isNotEmpty();
        assertThat(first.entries().get(0).key()).isEqualTo(keys.get(0));
        byte[] last = first.entries().get(first.entries().size() - 1).key();
        List<byte[]> seen = new ArrayList<>(first.entries().stream().map(Message.StreamEntry::key).toList());
        boolean done = first.done();
        while (!done) {
            sent.clear();
            node.onMessage(2, new Message.StreamRequest(Message.FIRST_EPOCH, 78, ns.id(), partition, last, 1_024));
            Message.StreamResponse r = (Message.StreamResponse) sent.get(sent.size() - 1).message();
            r.entries().forEach(e -> seen.add(e.key()));
            if (!r.entries().isEmpty()) {
                last = r.entries().get(r.entries().size() - 1).key();
            }
            done = r.done();
        }
        assertThat(seen).containsExactlyElementsOf(keys);
    }

    @Test
    void anOwnerStreamsItsPaxosStatesOfAPartitionLeavingOutACorruptOne() {
        Namespace ns = Namespace.defaults(0);
        MemoryEngine engine = new MemoryEngine();
        ClusterNode node = node(engine, List.of(ns));
        node.start();
        int partition = ns.partitionOf(new byte[] {'k'});
        List<byte[]> keys = keysIn(ns, partition, 3);
        io.cairn.paxos.PaxosState state = io.cairn.paxos.PaxosState.EMPTY.promise(new Version(Version.pack(T, 1), 2));
        io.cairn.storage.WriteBatch batch = new io.cairn.storage.WriteBatch();
        for (byte[] key : keys) {
            byte[] stored = state.encode(key);
            if (key == keys.get(1)) {
                stored[2] ^= 1; // Fails its checksum.
            }
            batch.put(io.cairn.storage.Keyspace.paxos(ns.id(), partition, key), stored);
        }
        engine.write(batch, Durability.SYNC);
        // Each state comes with this owner's record of its key, when it holds one; a state whose
        // record is corrupt is left out too (its commit must not travel without its record).
        Record held = Record.value(new Version(Version.pack(T, 0), 2), Record.NO_EXPIRY, null, new byte[] {7});
        LocalStore.direct(replica, engine).apply(ns, List.of(new Op.Apply(keys.get(0), held)), (results, failure) -> { });
        byte[] withCorruptRecord = keysIn(ns, partition, 4).stream().filter(x -> keys.stream().noneMatch(y -> java.util.Arrays.equals(x, y)))
                .findFirst().orElseThrow();
        byte[] corrupt = io.cairn.record.RecordCodec.encode(withCorruptRecord, held);
        corrupt[corrupt.length - 1] ^= 1;
        batch = new io.cairn.storage.WriteBatch();
        batch.put(io.cairn.storage.Keyspace.paxos(ns.id(), partition, withCorruptRecord), state.encode(withCorruptRecord));
        batch.put(io.cairn.storage.Keyspace.data(ns.id(), partition, withCorruptRecord), corrupt);
        engine.write(batch, Durability.SYNC);
        sent.clear();
        node.onMessage(2, new Message.StreamRequest(Message.FIRST_EPOCH, 79, ns.id(), partition, null, 1 << 20, Message.StreamRequest.Part.PAXOS_STATES));
        Message.StateStreamResponse r = (Message.StateStreamResponse) sent.stream().map(Sent::message)
                .filter(m -> m instanceof Message.StateStreamResponse).findFirst().orElseThrow();
        assertThat(r.requestId()).isEqualTo(79);
        assertThat(r.done()).isTrue();
        assertThat(r.entries()).extracting(Message.StateEntry::key).containsExactly(keys.get(0), keys.get(2));
        assertThat(r.entries()).extracting(Message.StateEntry::state).containsOnly(state);
        assertThat(r.entries()).extracting(Message.StateEntry::record).containsExactly(held, null);
    }

    /** The first {@code count} keys "key0", "key1", ... of {@code partition}, in key order. */
    private static List<byte[]> keysIn(Namespace ns, int partition, int count) {
        List<byte[]> keys = new ArrayList<>();
        for (int i = 0; keys.size() < count; i++) {
            byte[] key = ("key" + i).getBytes(StandardCharsets.UTF_8);
            if (ns.partitionOf(key) == partition) {
                keys.add(key);
            }
        }
        keys.sort(java.util.Arrays::compareUnsigned);
        return keys;
    }

    private Message.StreamRequest awaitStreamRequest(int partition, int to, Message.StreamRequest.Part part) {
        for (int i = 0; i < 50; i++) {
            var found = sent.stream().filter(x -> x.to() == to && x.message() instanceof Message.StreamRequest r && r.partition() == partition
                    && r.after() == null && r.part() == part).map(x -> (Message.StreamRequest) x.message()).reduce((a, b) -> b);
            if (found.isPresent()) {
                sent.removeIf(x -> x.message() == found.get());
                return found.get();
            }
            runFor(100);
        }
        throw new AssertionError("no stream request for partition " + partition + " to node " + to + "; sent " + sent);
    }

    @Test
    void aNewMembershipIsALocalChangeRoutingHeartbeatsAndEpochAllMoveAndEpochsOnlyGrow() {
        Namespace ns = Namespace.defaults(0);
        ClusterNode node = startedWithPeersUp(List.of(ns));
        List<Member> next = List.of(new Member(1, "a", "h1:80", "h1:7000"), new Member(2, "b", "h2:80", "h2:7000"),
                new Member(4, "c", "h4:80", "h4:7000"));

        node.onMembership(Membership.of(2, next, ns.partitioner().partitions(), 3));

        assertThat(node.epoch()).isEqualTo(2);
        assertThat(node.detector().isAlive(3)).as("a node that left is forgotten").isFalse();
        sent.clear();
        runFor(600);
        assertThat(sent).filteredOn(x -> x.message() instanceof Message.Ping).extracting(Sent::to).contains(2, 4).doesNotContain(3);
        assertThat(sent).filteredOn(x -> x.message() instanceof Message.Ping).extracting(x -> ((Message.Ping) x.message()).epoch()).containsOnly(2L);

        node.onMessage(4, new Message.Ping(2, 0, wall.nowMillis()));
        sent.clear();
        node.put(ns, new byte[] {'k'}, new byte[] {1}, null, Op.NO_TTL, Quorum.ALL, a -> { });
        assertThat(sent).filteredOn(x -> x.message() instanceof Message.WriteRequest).extracting(Sent::to).containsExactlyInAnyOrder(2, 4);
        assertThat(sent).filteredOn(x -> x.message() instanceof Message.WriteRequest)
                .allSatisfy(x -> assertThat(((Message.WriteRequest) x.message()).epoch()).isEqualTo(2));

        sent.clear();
        // The partitions kept their assignment: a request from the first epoch is still routed right.
        node.onMessage(2, new Message.ReadRequest(Protocol.READ, Message.FIRST_EPOCH, 9, ns.id(), new byte[] {'k'}));
        assertThat(sent).extracting(Sent::message).singleElement().isInstanceOfSatisfying(Message.ReadResponse.class,
                r -> assertThat(r.error()).isNull());

        assertThatThrownBy(() -> node.onMembership(Membership.of(2, next, ns.partitioner().partitions(), 3)))
                .isInstanceOf(io.cairn.invariant.Invariant.InvariantViolation.class);
    }

    @Test
    void aNodeThatLeftTheClusterCoordinatesNothingAndSaysWhy() {
        Namespace ns = Namespace.defaults(0);
        ClusterNode node = node(new MemoryEngine(), List.of(ns));
        node.start();
        List<Member> next = List.of(new Member(2, "b", "h2:80", "h2:7000"), new Member(3, "c", "h3:80", "h3:7000"),
                new Member(4, "a", "h4:80", "h4:7000"));
        node.onMembership(Membership.of(2, next, ns.partitioner().partitions(), 3));
        sent.clear();

        List<Answer> answers = new java.util.ArrayList<>();
        node.get(ns, new byte[] {'k'}, Quorum.MAJORITY, answers::add);
        node.serialGet(ns, new byte[] {'k'}, answers::add);
        List<WriteOutcome> outcomes = new java.util.ArrayList<>();
        node.execute(new WriteRequest(ns, List.of(new Op.Put(new byte[] {'k'}, new byte[] {1}, null, Op.NO_TTL, io.cairn.request.Condition.NONE)),
                null, null), null, Quorum.MAJORITY, outcomes::add);

        assertThat(answers).hasSize(2).allSatisfy(a -> assertThat(a.result()).isInstanceOfSatisfying(OpResult.Failed.class, f -> {
            assertThat(f.code()).isEqualTo(ErrorCode.NOT_A_MEMBER);
            assertThat(f.message()).contains("epoch 2").contains("h2:80");
        }));
        assertThat(outcomes).singleElement().isInstanceOfSatisfying(WriteOutcome.Failed.class,
                f -> assertThat(f.code()).isEqualTo(ErrorCode.NOT_A_MEMBER));
        assertThat(sent).as("nothing was sent for them").noneMatch(x -> x.message() instanceof Message.WriteRequest
                || x.message() instanceof Message.ReadRequest || x.message() instanceof Message.PaxosRequest);
    }

    @Test
    void aNodeLongBehindTheEpochItsPeersShowCoordinatesNothingUntilItCatchesUp() {
        Namespace ns = Namespace.defaults(0);
        ClusterNode node = startedWithPeersUp(List.of(ns));
        // A peer shows epoch 2; this node does not get it (cut off from the metadata log).
        node.onMessage(2, new Message.Ping(2, 1, wall.nowMillis()));
        List<Answer> answers = new java.util.ArrayList<>();
        node.get(ns, new byte[] {'k'}, Quorum.ONE, answers::add);
        assertThat(answers).as("a moment behind, as while any epoch spreads: served").singleElement()
                .satisfies(a -> assertThat(a.result()).isNotInstanceOf(OpResult.Failed.class));

        answers.clear();
        runFor(CoordinatorSettings.DEFAULT_BEHIND_LIMIT_MILLIS + 600);
        node.get(ns, new byte[] {'k'}, Quorum.ONE, answers::add);
        List<WriteOutcome> outcomes = new java.util.ArrayList<>();
        node.execute(new WriteRequest(ns, List.of(new Op.Delete(new byte[] {'k'}, io.cairn.request.Condition.NONE)), null), null,
                Quorum.ONE, outcomes::add);
        assertThat(answers).singleElement().satisfies(a -> assertThat(a.result()).isInstanceOfSatisfying(OpResult.Failed.class, f -> {
            assertThat(f.code()).isEqualTo(ErrorCode.EPOCH_MISMATCH);
            assertThat(f.message()).contains("epoch 1").contains("epoch 2").contains("coordinates nothing");
        }));
        assertThat(outcomes).singleElement().isInstanceOfSatisfying(WriteOutcome.Failed.class,
                f -> assertThat(f.code()).isEqualTo(ErrorCode.EPOCH_MISMATCH));

        // Moving again, though still behind (a peer is at epoch 3): a node applying epochs more
        // slowly than they come is not cut off, and serves; stuck at epoch 2, it stops again.
        node.onMessage(3, new Message.Ping(3, 2, wall.nowMillis()));
        List<Member> members = node.membership().members();
        node.onMembership(Membership.of(2, members, ns.partitioner().partitions(), 3));
        answers.clear();
        node.get(ns, new byte[] {'k'}, Quorum.ONE, answers::add);
        assertThat(answers).singleElement().satisfies(a -> assertThat(a.result()).isNotInstanceOf(OpResult.Failed.class));
        runFor(CoordinatorSettings.DEFAULT_BEHIND_LIMIT_MILLIS + 600);
        answers.clear();
        node.get(ns, new byte[] {'k'}, Quorum.ONE, answers::add);
        assertThat(answers).singleElement().satisfies(a -> assertThat(a.result()).isInstanceOf(OpResult.Failed.class));

        // Caught up: it serves again.
        node.onMembership(Membership.of(3, members, ns.partitioner().partitions(), 3));
        answers.clear();
        node.get(ns, new byte[] {'k'}, Quorum.ONE, answers::add);
        assertThat(answers).singleElement().satisfies(a -> assertThat(a.result()).isNotInstanceOf(OpResult.Failed.class));
    }

    // ---------------------------------------------------------------- bugs are not answers

    /** A bug while storing a replica write stops the core's thread; the peer is not told "failed". */
    @Test
    void anInvariantViolationWhileStoringAReplicaWritePropagatesInsteadOfBecomingAReply() {
        Namespace ns = Namespace.defaults(0);
        BreakableEngine engine = new BreakableEngine();
        ClusterNode node = node(engine, List.of(ns), (to, m) -> sent.add(new Sent(to, m)));
        node.start();
        Record record = Record.value(new Version(Version.pack(T, 0), 2), Record.NO_EXPIRY, null, new byte[] {1});
        engine.broken = true;

        assertThatThrownBy(() -> node.onMessage(2, new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 5, ns.id(), new byte[] {'k'}, record)))
                .isInstanceOf(Invariant.InvariantViolation.class).hasMessageContaining("broken on purpose");
        assertThat(responses(2)).isEmpty();
    }

    /** A bug in the code that answers a stored replica write propagates; a future does not swallow it. */
    @Test
    void anInvariantViolationWhileAnsweringAStoredReplicaWritePropagates() {
        Namespace ns = Namespace.defaults(0);
        ClusterNode node = node(new MemoryEngine(), List.of(ns), (to, m) -> {
            if (m instanceof Message.WriteResponse) {
                throw Invariant.violated("the transport refuses to encode %s", m);
            }
            sent.add(new Sent(to, m));
        });
        node.start();
        Record record = Record.value(new Version(Version.pack(T, 0), 2), Record.NO_EXPIRY, null, new byte[] {1});

        assertThatThrownBy(() -> node.onMessage(2, new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 5, ns.id(), new byte[] {'k'}, record)))
                .isInstanceOf(Invariant.InvariantViolation.class).hasMessageContaining("refuses to encode");
        assertThat(replica.readStored(ns, new byte[] {'k'})).as("stored before the answer failed").isEqualTo(record);
    }

    /** A bug in what runs once the coordinator's own replica acknowledged a write propagates to the caller. */
    @Test
    void anInvariantViolationAfterTheLocalAcknowledgementOfAPutPropagates() {
        Namespace ns = Namespace.defaults(0);
        ClusterNode node = node(new MemoryEngine(), List.of(ns));
        node.start();

        assertThatThrownBy(() -> node.put(ns, new byte[] {'k'}, new byte[] {1}, null, Op.NO_TTL, Quorum.ONE, answer -> {
            throw Invariant.violated("the client's callback is broken");
        })).isInstanceOf(Invariant.InvariantViolation.class).hasMessageContaining("callback is broken");
    }

    /** Node 1 of three on a memory engine, started, having heard from nodes 2 and 3 (so it counts them up). */
    private ClusterNode startedWithPeersUp(List<Namespace> namespaces) {
        ClusterNode node = node(new MemoryEngine(), namespaces);
        node.start();
        node.onMessage(2, new Message.Ping(Message.FIRST_EPOCH, 0, wall.nowMillis()));
        node.onMessage(3, new Message.Ping(Message.FIRST_EPOCH, 0, wall.nowMillis()));
        return node;
    }

    /** Node 1 of three, with an always-synchronous store. */
    private ClusterNode node(MemoryEngine engine, List<Namespace> namespaces) {
        return node(engine, namespaces, (to, m) -> sent.add(new Sent(to, m)));
    }

    private ClusterNode node(StorageEngine engine, List<Namespace> namespaces, Transport transport) {
        return node(engine, namespaces, transport, List.of(new Member(1, "a", "h1:80", "h1:7000"), new Member(2, "b", "h2:80", "h2:7000"),
                new Member(3, "c", "h3:80", "h3:7000")));
    }

    private ClusterNode node(StorageEngine engine, List<Namespace> namespaces, Transport transport, List<Member> members) {
        return node(engine, namespaces, transport, members, CoordinatorSettings.DEFAULTS.withSloppyQuorum(true));
    }

    private ClusterNode node(StorageEngine engine, List<Namespace> namespaces, Transport transport, List<Member> members,
                             CoordinatorSettings coordinator) {
        clock = new HybridClock(wall, 1);
        replica = new LocalReplica(engine, clock, Durability.SYNC, 0, Limits.DEFAULTS);
        return new ClusterNode(1, members, namespaces, null, new ClusterSettings(3, 500, 8.0, 3_600_000, 500, 16, coordinator), clock,
                transport, scheduler, LocalStore.direct(replica, engine), engine);
    }

    /** A memory engine whose writes fail an invariant while {@code broken}: a bug below the replica. */
    private static final class BreakableEngine implements StorageEngine {
        final MemoryEngine memory = new MemoryEngine();
        boolean broken;

        @Override
        public byte[] get(byte[] key) {
            return memory.get(key);
        }

        @Override
        public void write(WriteBatch batch, Durability durability) {
            Invariant.check(!broken, "broken on purpose");
            memory.write(batch, durability);
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

    private List<Message.WriteResponse> responses(int to) {
        return sent.stream().filter(s -> s.to() == to && s.message() instanceof Message.WriteResponse)
                .map(s -> (Message.WriteResponse) s.message()).toList();
    }

    private void runFor(long millis) {
        scheduler.runFor(millis);
    }
}
