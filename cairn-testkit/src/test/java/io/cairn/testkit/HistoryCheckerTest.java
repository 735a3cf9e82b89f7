package io.cairn.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.placement.Quorum;
import io.cairn.record.Record;
import io.cairn.clock.Version;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The checkers on small hand-written histories: each must flag what it is for, and nothing else. */
class HistoryCheckerTest {
    private static final int N = 3;
    private final History history = new History();
    private long nextId;
    private long step;

    @Nested
    class ReadYourWrites {
        @Test
        void aQuorumReadMissingAQuorumWriteThatCompletedBeforeItIsFlagged() {
            Operation v1 = put("k", "v1", Quorum.MAJORITY, 10);
            put("k", "v2", Quorum.MAJORITY, 20);
            read("k", Quorum.MAJORITY, v1);

            assertThat(checker().readYourWrites()).singleElement()
                    .satisfies(v -> assertThat(v.kind()).isEqualTo(Violation.Kind.READ_YOUR_WRITES));
        }

        @Test
        void quorumsThatNeedNotIntersectAreNotHeldToIt() {
            Operation v1 = put("k", "v1", Quorum.ONE, 10);
            put("k", "v2", Quorum.ONE, 20);
            read("k", Quorum.MAJORITY, v1);

            assertThat(checker().readYourWrites()).isEmpty();
        }

        @Test
        void aNewerVersionIsFine() {
            put("k", "v1", Quorum.ALL, 10);
            Operation v2 = put("k", "v2", Quorum.ONE, 20);
            read("k", Quorum.ONE, v2);

            assertThat(checker().readYourWrites()).isEmpty();
        }

        @Test
        void notFoundNeedsADeleteThatMayHaveHappened() {
            put("k", "v1", Quorum.ALL, 10);
            readNotFound("k", Quorum.ONE);
            assertThat(checker().readYourWrites()).hasSize(1);

            Operation d = begin(Operation.Kind.DELETE, "k", null, Quorum.ALL);
            d.outcome = Operation.Outcome.UNKNOWN;
            end(d);
            readNotFound("k", Quorum.ONE);
            assertThat(checker().readYourWrites()).hasSize(1);
        }

        @Test
        void aWriteFallbacksHelpedAcknowledgeSetsNoFloorButOneHomeReplicasAcknowledgedStillDoes() {
            Operation home = put("k", "v1", Quorum.MAJORITY, 10);
            Operation sloppy = put("k", "v2", Quorum.MAJORITY, 20);
            sloppy.fallbackAcks = 1;
            read("k", Quorum.MAJORITY, home);
            assertThat(checker().readYourWrites()).isEmpty();

            Operation v0 = put("k", "v0", Quorum.ONE, 5);
            read("k", Quorum.MAJORITY, v0);
            assertThat(checker().readYourWrites()).singleElement()
                    .satisfies(v -> assertThat(v.message()).contains(home.toString()));
        }

        @Test
        void aReadConcurrentWithTheWriteIsNotHeldToIt() {
            Operation v1 = put("k", "v1", Quorum.ALL, 10);
            Operation read = begin(Operation.Kind.GET, "k", null, Quorum.ALL);
            Operation v2 = put("k", "v2", Quorum.ALL, 20);
            read.outcome = Operation.Outcome.FOUND;
            read.record = recordOf(v1);
            end(read);

            assertThat(v2.completedStep).isLessThan(read.completedStep);
            assertThat(checker().readYourWrites()).isEmpty();
        }
    }

    @Nested
    class LostWritesAndConvergence {
        @Test
        void anAcknowledgedWriteMissingFromEveryHomeReplicaIsLost() {
            Operation v1 = put("k", "v1", Quorum.ONE, 10);
            put("k", "v2", Quorum.ONE, 20);
            Operation finalRead = read("k", Quorum.ALL, v1);

            List<Violation> found = checker().lostWrites(List.of(finalState("k", finalRead, recordOf(v1), recordOf(v1), recordOf(v1))));

            assertThat(found).singleElement().satisfies(v -> assertThat(v.kind()).isEqualTo(Violation.Kind.LOST_WRITE));
        }

        @Test
        void theNewestAcknowledgedWriteSurvivingIsEnough() {
            put("k", "v1", Quorum.ONE, 10);
            Operation v2 = put("k", "v2", Quorum.ONE, 20);
            Operation finalRead = read("k", Quorum.ALL, v2);

            assertThat(checker().lostWrites(List.of(finalState("k", finalRead, recordOf(v2), recordOf(v2), recordOf(v2))))).isEmpty();
        }

        @Test
        void aFailedFinalReadIsALivenessProblem() {
            put("k", "v1", Quorum.ONE, 10);
            Operation finalRead = begin(Operation.Kind.GET, "k", null, Quorum.ALL);
            finalRead.outcome = Operation.Outcome.FAILED;
            end(finalRead);

            assertThat(checker().lostWrites(List.of(finalState("k", finalRead, null, null, null))))
                    .extracting(Violation::kind).containsExactly(Violation.Kind.LIVENESS);
        }

        @Test
        void homeReplicasThatDisagreeHaveDiverged() {
            Operation v1 = put("k", "v1", Quorum.ONE, 10);
            Operation v2 = put("k", "v2", Quorum.ONE, 20);
            Operation finalRead = read("k", Quorum.ALL, v2);

            assertThat(checker().convergence(List.of(finalState("k", finalRead, recordOf(v2), recordOf(v1), recordOf(v2)))))
                    .extracting(Violation::kind).containsExactly(Violation.Kind.DIVERGENCE);
            assertThat(checker().convergence(List.of(finalState("k", finalRead, recordOf(v2), recordOf(v2), recordOf(v2))))).isEmpty();
        }
    }

    @Nested
    class Integrity {
        @Test
        void aValueFromAWriteReportedAsNotExecutedIsFlagged() {
            Operation failed = begin(Operation.Kind.PUT, "k", "v1", Quorum.ALL);
            failed.outcome = Operation.Outcome.FAILED;
            end(failed);
            Operation read = begin(Operation.Kind.GET, "k", null, Quorum.ONE);
            read.outcome = Operation.Outcome.FOUND;
            read.record = Record.value(new Version(99, 1), 0, "text/plain", bytes("v1"));
            end(read);

            assertThat(checker().integrity()).extracting(Violation::kind).containsExactly(Violation.Kind.INTEGRITY);
        }

        @Test
        void anAcknowledgedValueUnderAnotherVersionIsFlagged() {
            put("k", "v1", Quorum.ONE, 10);
            Operation read = begin(Operation.Kind.GET, "k", null, Quorum.ONE);
            read.outcome = Operation.Outcome.FOUND;
            read.record = Record.value(new Version(11, 1), 0, "text/plain", bytes("v1"));
            end(read);

            assertThat(checker().integrity()).hasSize(1);
        }
    }

    @Test
    void versionInversionsOfASingleWriterAreCounted() {
        history.declareSingleWriter("k", 0);
        put("k", "v1", Quorum.ALL, 20);
        put("k", "v2", Quorum.ALL, 10);

        assertThat(checker().versionInversions()).isEqualTo(1);
    }

    // ---------------------------------------------------------------- history building

    private HistoryChecker checker() {
        return new HistoryChecker(history, N, step);
    }

    private Operation begin(Operation.Kind kind, String key, String value, Quorum q) {
        return history.add(new Operation(nextId++, 0, kind, key, value == null ? null : bytes(value), q, q.resolve(N), 1, step, step++));
    }

    private void end(Operation op) {
        op.completedAt = step;
        op.completedStep = step++;
    }

    private Operation put(String key, String value, Quorum w, long versionTimestamp) {
        Operation op = begin(Operation.Kind.PUT, key, value, w);
        op.outcome = Operation.Outcome.WRITTEN;
        op.version = new Version(versionTimestamp, 1);
        op.acks = op.quorumSize;
        end(op);
        return op;
    }

    private Operation read(String key, Quorum r, Operation returns) {
        Operation op = begin(Operation.Kind.GET, key, null, r);
        op.outcome = Operation.Outcome.FOUND;
        op.record = recordOf(returns);
        end(op);
        return op;
    }

    private void readNotFound(String key, Quorum r) {
        Operation op = begin(Operation.Kind.GET, key, null, r);
        op.outcome = Operation.Outcome.NOT_FOUND;
        end(op);
    }

    private static Record recordOf(Operation put) {
        return Record.value(put.version, 0, "text/plain", put.value);
    }

    private static HistoryChecker.FinalState finalState(String key, Operation finalRead, Record... homes) {
        Map<Integer, Record> stored = new LinkedHashMap<>();
        int[] ids = new int[homes.length];
        for (int i = 0; i < homes.length; i++) {
            ids[i] = i + 1;
            stored.put(i + 1, homes[i]);
        }
        return new HistoryChecker.FinalState(key, ids, stored, Map.of(), finalRead);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
