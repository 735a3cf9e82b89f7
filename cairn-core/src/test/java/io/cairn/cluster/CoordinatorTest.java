package io.cairn.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.clock.ClockMonitor;
import io.cairn.clock.HybridClock;
import io.cairn.clock.ManualClock;
import io.cairn.error.ErrorCode;
import io.cairn.membership.Member;
import io.cairn.message.Message;
import io.cairn.message.Protocol;
import io.cairn.message.RequestIds;
import io.cairn.namespace.Namespace;
import io.cairn.placement.Partitioner;
import io.cairn.placement.PartitionMap;
import io.cairn.placement.Placement;
import io.cairn.placement.Quorum;
import io.cairn.request.Answer;
import io.cairn.request.OpResult;
import io.cairn.record.Record;
import io.cairn.replica.LocalReplica;
import io.cairn.replica.LocalStore;
import io.cairn.request.Limits;
import io.cairn.request.Op;
import io.cairn.storage.Durability;
import io.cairn.storage.MemoryEngine;
import io.cairn.clock.Version;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The coordinator's write path against scripted peers, strict and sloppy: six nodes in six zones,
 * one partition, N=3, so that every write has three home replicas and three fallbacks.
 */
class CoordinatorTest {
    private static final long T = 1_700_000_000_000L;
    private static final long TIMEOUT = 1_000;
    private static final byte[] KEY = "k".getBytes(StandardCharsets.UTF_8);
    private static final byte[] VALUE = "v".getBytes(StandardCharsets.UTF_8);
    private static final List<Member> MEMBERS = IntStream.rangeClosed(1, 6)
            .mapToObj(id -> new Member(id, "z" + id, "h" + id + ":80", "h" + id + ":7000")).toList();
    private static final PartitionMap MAP = Placement.compute(1, MEMBERS, 1, 3);
    private static final int[] PREFERENCES = MAP.preferenceList(0);
    private static final int HOME_A = PREFERENCES[0];
    private static final int HOME_B = PREFERENCES[1];
    private static final int HOME_C = PREFERENCES[2];
    private static final int FALLBACK_1 = PREFERENCES[3];
    private static final int FALLBACK_2 = PREFERENCES[4];
    private static final int FALLBACK_3 = PREFERENCES[5];

    private final Namespace ns = new Namespace(1, "default", new Partitioner(1), 0);
    private final ManualClock wall = new ManualClock(T);
    private final MemoryEngine engine = new MemoryEngine();
    private final ManualScheduler scheduler = new ManualScheduler(wall);
    private final List<Sent> sent = new ArrayList<>();
    private final List<Answer> answers = new ArrayList<>();
    private FailureDetector detector;
    private HintStore hints;
    private LocalReplica replica;
    private Coordinator coordinator;

    private record Sent(int to, Message message) {}

    // ---------------------------------------------------------------- strict (the default)

    @Test
    void sloppyQuorumIsOffByDefault() {
        assertThat(CoordinatorSettings.DEFAULTS.sloppyQuorum()).isFalse();
        assertThat(new CoordinatorSettings(1_000, 100).sloppyQuorum()).isFalse();
    }

    @Test
    void strictQuorumFailsFastWhenTooFewHomeReplicasAreUpAndAsksNoFallback() {
        start(HOME_A, false, Set.of(HOME_B, HOME_C));

        coordinator.put(ns, KEY, VALUE, null, Op.NO_TTL, Quorum.MAJORITY, answers::add);

        assertThat(failure().code()).isEqualTo(ErrorCode.QUORUM_UNAVAILABLE);
        assertThat(failure().details()).containsEntry("reachable", 1).containsEntry("required", 2);
        assertThat(sent).isEmpty();
        assertThat(hints.pendingCount()).isZero();
    }

    @Test
    void strictQuorumHintsADownHomeReplicaAtTheCoordinatorAndSendsNothingToFallbacks() {
        start(HOME_A, false, Set.of(HOME_C));

        coordinator.put(ns, KEY, VALUE, null, Op.NO_TTL, Quorum.MAJORITY, answers::add);

        assertThat(sent).extracting(Sent::to).containsExactly(HOME_B);
        assertThat(hints.backlog()).containsOnlyKeys(HOME_C);
        answer(HOME_B, true);
        assertThat(written().acks()).isEqualTo(2);
        assertThat(written().fallbackAcks()).isZero();
    }

    // ---------------------------------------------------------------- sloppy

    @Test
    void aFallbackStandsInForADownHomeReplicaAndItsAcknowledgementCountsTowardW() {
        start(HOME_A, true, Set.of(HOME_C));

        coordinator.put(ns, KEY, VALUE, null, Op.NO_TTL, Quorum.ALL, answers::add);

        assertThat(sent).extracting(Sent::to).containsExactly(HOME_B, FALLBACK_1);
        Message.HintedWrite h = (Message.HintedWrite) sent.get(1).message();
        assertThat(h.target()).isEqualTo(HOME_C);
        assertThat(h.namespaceId()).isEqualTo(ns.id());
        assertThat(h.key()).isEqualTo(KEY);
        assertThat(h.requestId()).isEqualTo(((Message.WriteRequest) sent.get(0).message()).requestId());
        assertThat(hints.pendingCount()).as("no hint at the coordinator while a fallback holds the write").isZero();

        answer(HOME_B, true);
        assertThat(answers).isEmpty();
        answer(FALLBACK_1, true);

        assertThat(written().acks()).isEqualTo(3);
        assertThat(written().fallbackAcks()).isEqualTo(1);
        assertThat(coordinator.stats().fallbackHints()).isEqualTo(1);
        runFor(2 * TIMEOUT);
        assertThat(hints.pendingCount()).isZero();
        assertThat(coordinator.pendingRequests()).isZero();
    }

    @Test
    void sloppyWritesGoToHomeReplicasOnlyWhileTheyAreAllUp() {
        start(HOME_A, true, Set.of());

        coordinator.put(ns, KEY, VALUE, null, Op.NO_TTL, Quorum.ALL, answers::add);

        assertThat(sent).extracting(Sent::to).containsExactly(HOME_B, HOME_C);
        assertThat(sent).allMatch(s -> s.message() instanceof Message.WriteRequest);
    }

    @Test
    void fallbacksAreTakenInPreferenceOrderSkippingDownOnesOnePerDownHomeReplica() {
        start(HOME_A, true, Set.of(HOME_B, HOME_C, FALLBACK_1));

        coordinator.put(ns, KEY, VALUE, null, Op.NO_TTL, Quorum.ALL, answers::add);

        assertThat(sent).extracting(Sent::to).containsExactly(FALLBACK_2, FALLBACK_3);
        assertThat(sent).extracting(s -> ((Message.HintedWrite) s.message()).target()).containsExactly(HOME_B, HOME_C);
        answer(FALLBACK_3, true);
        answer(FALLBACK_2, true);
        assertThat(written().acks()).isEqualTo(3);
        assertThat(written().fallbackAcks()).isEqualTo(2);
    }

    @Test
    void admissionCountsLiveHomeReplicasPlusFallbacksFound() {
        start(HOME_A, true, Set.of(HOME_B, HOME_C, FALLBACK_1, FALLBACK_2));

        coordinator.put(ns, KEY, VALUE, null, Op.NO_TTL, Quorum.ALL, answers::add);

        assertThat(failure().code()).isEqualTo(ErrorCode.QUORUM_UNAVAILABLE);
        assertThat(failure().details()).containsEntry("reachable", 2).containsEntry("required", 3).containsEntry("replicas", 3);
        assertThat(sent).isEmpty();
    }

    @Test
    void aDownHomeReplicaWithoutALiveFallbackIsHintedAtTheCoordinatorAtOnce() {
        start(HOME_A, true, Set.of(HOME_B, HOME_C, FALLBACK_1, FALLBACK_2));

        coordinator.put(ns, KEY, VALUE, null, Op.NO_TTL, Quorum.MAJORITY, answers::add);

        assertThat(sent).extracting(Sent::to).containsExactly(FALLBACK_3);
        assertThat(((Message.HintedWrite) sent.get(0).message()).target()).isEqualTo(HOME_B);
        assertThat(hints.backlog()).containsOnlyKeys(HOME_C);
        answer(FALLBACK_3, true);
        assertThat(written().acks()).isEqualTo(2);
        assertThat(written().fallbackAcks()).isEqualTo(1);
    }

    @Test
    void aFallbackThatRefusesLeavesTheHintToTheCoordinator() {
        start(HOME_A, true, Set.of(HOME_C));

        coordinator.put(ns, KEY, VALUE, null, Op.NO_TTL, Quorum.ALL, answers::add);
        answer(HOME_B, true);
        answer(FALLBACK_1, false);

        assertThat(hints.backlog()).containsOnlyKeys(HOME_C);
        assertThat(failure().code()).isEqualTo(ErrorCode.OUTCOME_UNKNOWN);
    }

    @Test
    void aFallbackThatDoesNotAnswerInTimeLeavesTheHintToTheCoordinator() {
        start(HOME_A, true, Set.of(HOME_C));

        coordinator.put(ns, KEY, VALUE, null, Op.NO_TTL, Quorum.MAJORITY, answers::add);
        answer(HOME_B, true);
        assertThat(written().fallbackAcks()).isZero();
        assertThat(hints.pendingCount()).isZero();

        runFor(TIMEOUT);

        assertThat(hints.backlog()).as("hinted for the home replica, not for the fallback").containsOnlyKeys(HOME_C);
        assertThat(coordinator.pendingRequests()).isZero();
    }

    /** From outside: a coordinator killed between the acknowledgement and the timeout took the only knowledge of a missing copy with it. */
    @Test
    void anAcknowledgedWriteHintsAReplicaStillSilentAfterTheHintDelayNotAtTheTimeout() {
        start(HOME_A, false, Set.of());

        coordinator.put(ns, KEY, VALUE, null, Op.NO_TTL, Quorum.MAJORITY, answers::add);
        answer(HOME_B, true);
        assertThat(written().acks()).isEqualTo(2);
        runFor(CoordinatorSettings.DEFAULT_HINT_DELAY_MILLIS - 1);
        assertThat(hints.pendingCount()).as("the third replica may still answer").isZero();
        runFor(1);
        assertThat(hints.backlog()).as("hinted long before the %d ms timeout", TIMEOUT).containsOnlyKeys(HOME_C);

        answer(HOME_C, true);
        runFor(TIMEOUT);
        assertThat(hints.pendingCount()).as("one hint, not a second at the timeout").isEqualTo(1);
        assertThat(coordinator.pendingRequests()).isZero();
    }

    @Test
    void aReplicaThatAnswersWithinTheHintDelayGetsNoHint() {
        start(HOME_A, false, Set.of());

        coordinator.put(ns, KEY, VALUE, null, Op.NO_TTL, Quorum.MAJORITY, answers::add);
        answer(HOME_B, true);
        runFor(CoordinatorSettings.DEFAULT_HINT_DELAY_MILLIS / 2);
        answer(HOME_C, true);
        runFor(TIMEOUT);
        assertThat(hints.pendingCount()).isZero();
    }

    @Test
    void aLateOrDuplicateFallbackAcknowledgementChangesNothing() {
        start(HOME_A, true, Set.of(HOME_C));

        coordinator.put(ns, KEY, VALUE, null, Op.NO_TTL, Quorum.MAJORITY, answers::add);
        long id = ((Message.WriteRequest) sent.get(0).message()).requestId();
        coordinator.onWriteResponse(HOME_B, new Message.WriteResponse(Protocol.REPLICATION, id, true, null));
        coordinator.onWriteResponse(FALLBACK_1, new Message.WriteResponse(Protocol.REPLICATION, id, true, null));
        coordinator.onWriteResponse(FALLBACK_1, new Message.WriteResponse(Protocol.REPLICATION, id, true, null));

        assertThat(answers).hasSize(1);
        assertThat(written().acks()).isEqualTo(2);
        assertThat(coordinator.pendingRequests()).isZero();
    }

    @Test
    void aCoordinatorThatIsItselfTheFallbackKeepsTheHintSyncedAndCountsIt() {
        start(FALLBACK_1, true, Set.of(HOME_C));

        coordinator.put(ns, KEY, VALUE, null, Op.NO_TTL, Quorum.ALL, answers::add);

        assertThat(sent).extracting(Sent::to).containsExactly(HOME_A, HOME_B);
        assertThat(hints.backlog()).containsOnlyKeys(HOME_C);
        assertThat(replica.readStored(ns, KEY)).as("a fallback keeps a hint, not a copy").isNull();
        engine.crash();
        assertThat(StoredHints.pending(engine, wall, HOME_C, 10)).extracting(Hint::namespaceId).containsExactly(ns.id());

        answer(HOME_A, true);
        answer(HOME_B, true);
        assertThat(written().acks()).isEqualTo(3);
        assertThat(written().fallbackAcks()).isEqualTo(1);
    }

    @Test
    void readsStayOnHomeReplicasUnderSloppyQuorum() {
        start(HOME_A, true, Set.of(HOME_C));

        coordinator.get(ns, KEY, Quorum.ALL, answers::add);
        assertThat(failure().code()).isEqualTo(ErrorCode.QUORUM_UNAVAILABLE);

        answers.clear();
        coordinator.get(ns, KEY, Quorum.MAJORITY, answers::add);
        assertThat(sent).extracting(Sent::to).containsExactly(HOME_B);
        assertThat(sent).allMatch(s -> s.message() instanceof Message.ReadRequest);
    }

    @Test
    void aDeleteUnderSloppyQuorumReportsItsFallbackAcknowledgements() {
        start(HOME_A, true, Set.of(HOME_B));

        coordinator.delete(ns, KEY, Quorum.ALL, answers::add);
        answer(HOME_C, true);
        answer(FALLBACK_1, true);

        Answer d = answers.get(0);
        assertThat(d.result()).isInstanceOf(OpResult.Deleted.class);
        assertThat(d.acks()).isEqualTo(3);
        assertThat(d.fallbackAcks()).isEqualTo(1);
    }

    // ---------------------------------------------------------------- hostile and future replies

    @Test
    void aReplicasCorruptCopyFailsTheReadAsCorruptRecordNotAsATimeout() {
        start(HOME_A, false, Set.of());
        coordinator.get(ns, KEY, Quorum.ALL, answers::add);
        coordinator.onReadResponse(HOME_B, new Message.ReadResponse(Protocol.READ, readId(HOME_B), null,
                new Message.Failure(ErrorCode.CORRUPT_RECORD, "checksum mismatch")));

        assertThat(failure().code()).isEqualTo(ErrorCode.CORRUPT_RECORD);
        assertThat(failure().details()).containsEntry("failures", java.util.Map.of(Integer.toString(HOME_B), "corrupt_record"));

        answers.clear();
        sent.clear();
        coordinator.get(ns, KEY, Quorum.ALL, answers::add);
        coordinator.onReadResponse(HOME_B, new Message.ReadResponse(Protocol.READ, readId(HOME_B), null,
                new Message.Failure(ErrorCode.STORAGE_FAILED, "disk gone")));
        assertThat(failure().code()).as("other replica failures stay a retryable timeout").isEqualTo(ErrorCode.READ_TIMEOUT);
    }

    @Test
    void aReadReplyStampedBeyondTheMaxOffsetFailsAndIsNeitherAnsweredNorUsedForRepair() {
        start(HOME_A, false, Set.of());
        Record older = Record.value(new Version(Version.pack(T - 1_000, 0), HOME_C), Record.NO_EXPIRY, null, VALUE);
        Record future = Record.value(new Version(Version.pack(T + 3_600_000, 0), HOME_B), Record.NO_EXPIRY, null, "poison".getBytes(StandardCharsets.UTF_8));

        coordinator.get(ns, KEY, Quorum.ALL, answers::add);
        coordinator.onReadResponse(HOME_B, new Message.ReadResponse(Protocol.READ, readId(HOME_B), future, null));
        assertThat(failure().code()).isEqualTo(ErrorCode.READ_TIMEOUT);
        assertThat(failure().message()).contains("1 answered with a record stamped more than cluster.maxClockOffset ahead");

        answers.clear();
        sent.clear();
        coordinator.get(ns, KEY, Quorum.MAJORITY, answers::add);
        coordinator.onReadResponse(HOME_B, new Message.ReadResponse(Protocol.READ, readId(HOME_B), future, null));
        coordinator.onReadResponse(HOME_C, new Message.ReadResponse(Protocol.READ, readId(HOME_C), older, null));
        runFor(200);

        assertThat(answers).singleElement().isEqualTo(Answer.read(new OpResult.Found(older), 2));
        assertThat(sent).filteredOn(s -> s.message() instanceof Message.WriteRequest)
                .allSatisfy(s -> assertThat(((Message.WriteRequest) s.message()).record()).isEqualTo(older));
        assertThat(replica.readStored(ns, KEY)).as("the coordinator's own replica repaired with the older record").isEqualTo(older);
        assertThat(clockOf(HOME_A).refusals()).isEqualTo(2);
    }

    @Test
    void aWriteResponseFromANodeTheWriteDidNotGoToChangesNothing() {
        start(HOME_A, false, Set.of());
        coordinator.put(ns, KEY, VALUE, null, Op.NO_TTL, Quorum.ALL, answers::add);
        long id = ((Message.WriteRequest) sent.get(0).message()).requestId();

        coordinator.onWriteResponse(FALLBACK_1, new Message.WriteResponse(Protocol.REPLICATION, id, false, new Message.Failure(ErrorCode.INTERNAL, "forged")));
        coordinator.onWriteResponse(FALLBACK_2, new Message.WriteResponse(Protocol.REPLICATION, id, true, null));

        assertThat(hints.pendingCount()).isZero();
        assertThat(answers).isEmpty();
        answer(HOME_B, true);
        answer(HOME_C, true);
        assertThat(written().acks()).isEqualTo(3);
    }

    private long readId(int to) {
        return sent.stream().filter(s -> s.to() == to && s.message() instanceof Message.ReadRequest)
                .map(s -> ((Message.ReadRequest) s.message()).requestId()).reduce((a, b) -> b).orElseThrow();
    }

    private HybridClock clockOf(int self) {
        assertThat(replica.clock().nodeId()).isEqualTo(self);
        return replica.clock();
    }

    // ---------------------------------------------------------------- harness

    private void start(int self, boolean sloppy, Set<Integer> down) {
        HybridClock clock = new HybridClock(wall, self);
        replica = new LocalReplica(engine, clock, Durability.SYNC, 0, Limits.DEFAULTS);
        detector = new FailureDetector(wall, 8.0, 500);
        for (Member m : MEMBERS) {
            if (!down.contains(m.id())) {
                detector.heard(m.id());
            }
        }
        LocalStore store = LocalStore.direct(replica, engine);
        hints = new HintStore(engine, store, wall, 3_600_000);
        coordinator = new Coordinator(self, MAP, clock, new ClockMonitor(clock, 2_500, VersionCeiling.LEASE_MILLIS),
                new VersionCeiling(engine, store, clock), (to, m) -> sent.add(new Sent(to, m)),
                scheduler, store, detector, hints, new RequestIds(1), new CoordinatorSettings(TIMEOUT, 100, sloppy));
        assertThat(Arrays.stream(PREFERENCES).distinct().count()).isEqualTo(6);
    }

    /** The peer answers the one message sent to it. */
    private void answer(int from, boolean stored) {
        List<Sent> to = sent.stream().filter(s -> s.to() == from).toList();
        assertThat(to).as("messages to n%d", from).hasSize(1);
        long id = switch (to.get(0).message()) {
            case Message.WriteRequest w -> w.requestId();
            case Message.HintedWrite h -> h.requestId();
            default -> throw new AssertionError(to.get(0));
        };
        coordinator.onWriteResponse(from, new Message.WriteResponse(Protocol.REPLICATION, id, stored, stored ? null : new Message.Failure(ErrorCode.STORAGE_FAILED, "refused")));
    }

    /** The one answer, a put's. */
    private Answer written() {
        assertThat(answers).hasSize(1);
        assertThat(answers.get(0).result()).isInstanceOf(OpResult.Written.class);
        return answers.get(0);
    }

    private OpResult.Failed failure() {
        assertThat(answers).hasSize(1);
        return (OpResult.Failed) answers.get(0).result();
    }

    private void runFor(long millis) {
        scheduler.runFor(millis);
    }
}
