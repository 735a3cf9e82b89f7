package io.cairn.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Deliberately broken clusters that the checkers must catch; if they pass, the simulator is
 * blind. Runs a fixed set of seeds (not affected by {@code -Dcairn.seed}).
 */
class CanarySimulation {
    private static final long BASE_SEED = 0xCA4A_27L;
    private static final int SEEDS = Integer.getInteger("cairn.canary.seeds", 40);

    @Test
    void aReplicaThatAcknowledgesBeforeItsWritesAreDurableLosesWritesAndIsCaught() {
        Map<Violation.Kind, Integer> found = runAll(SimulationConfig.Canary.ASYNC_DURABILITY);
        assertThat(found.getOrDefault(Violation.Kind.LOST_WRITE, 0) + found.getOrDefault(Violation.Kind.READ_YOUR_WRITES, 0))
                .as("seeds in which a lost acknowledged write was reported, of %d: %s", SEEDS, found)
                .isPositive();
        assertNoFalseAlarms(found);
        assertThat(found).doesNotContainKey(Violation.Kind.CLOCK);
    }

    @Test
    void aCoordinatorThatCountsTooFewAcknowledgementsIsCaught() {
        Map<Violation.Kind, Integer> found = runAll(SimulationConfig.Canary.WEAK_WRITE_QUORUM);
        assertThat(found.getOrDefault(Violation.Kind.READ_YOUR_WRITES, 0))
                .as("seeds in which a read missed a write acknowledged at too small a W, of %d: %s", SEEDS, found)
                .isPositive();
        assertNoFalseAlarms(found);
        assertThat(found).doesNotContainKey(Violation.Kind.CLOCK);
    }

    @Test
    void aNodeWithoutTheMaxClockOffsetIsDraggedIntoTheFutureByHostileRecordsAndIsCaught() {
        Map<Violation.Kind, Integer> found = runAll(SimulationConfig.Canary.NO_CLOCK_BOUND);
        assertThat(found.getOrDefault(Violation.Kind.CLOCK, 0))
                .as("seeds in which a clock dragged beyond the max offset, or a far-future record, was reported, of %d: %s", SEEDS, found)
                .isGreaterThanOrEqualTo(SEEDS / 2);
        assertNoFalseAlarms(found);
        assertThat(found).doesNotContainKeys(Violation.Kind.LOST_WRITE, Violation.Kind.READ_YOUR_WRITES, Violation.Kind.DIVERGENCE);
    }

    @Test
    void aCoordinatorThatForgetsIdempotencyKeysRunsRetriesAgainAndIsCaught() {
        Map<Violation.Kind, Integer> found = runAll(SimulationConfig.Canary.FORGETFUL_IDEMPOTENCY);
        assertThat(found.getOrDefault(Violation.Kind.IDEMPOTENCY, 0))
                .as("seeds in which a retry ran again after its outcome was recorded, or a reused key ran, of %d: %s", SEEDS, found)
                .isGreaterThanOrEqualTo(SEEDS / 2);
        assertNoFalseAlarms(found);
        assertThat(found).doesNotContainKeys(Violation.Kind.LOST_WRITE, Violation.Kind.READ_YOUR_WRITES, Violation.Kind.DIVERGENCE,
                Violation.Kind.CLOCK);
    }

    @Test
    void aCoordinatorThatIgnoresPerKeyOrderInABatchIsCaught() {
        Map<Violation.Kind, Integer> found = runAll(SimulationConfig.Canary.UNORDERED_BATCH);
        assertThat(found.getOrDefault(Violation.Kind.BATCH_ORDER, 0))
                .as("seeds in which a batch's get missed the puts before it, of %d: %s", SEEDS, found)
                .isGreaterThanOrEqualTo(SEEDS / 2);
        assertNoFalseAlarms(found);
        assertThat(found).doesNotContainKeys(Violation.Kind.LOST_WRITE, Violation.Kind.READ_YOUR_WRITES, Violation.Kind.DIVERGENCE,
                Violation.Kind.CLOCK, Violation.Kind.IDEMPOTENCY);
    }

    @Test
    void replicasWithoutAntiEntropyStayApartAndAreCaught() {
        Map<Violation.Kind, Integer> found = runAll(SimulationConfig.Canary.NO_EXCHANGES);
        assertThat(found.getOrDefault(Violation.Kind.DIVERGENCE, 0))
                .as("seeds in which home replicas still differed after faults stopped, with no client reads, of %d: %s", SEEDS, found)
                .isPositive();
        // Corrupt copies nothing repairs also fail the final reads (liveness) and remain on disk (integrity).
        assertThat(found).doesNotContainKeys(Violation.Kind.INVARIANT, Violation.Kind.EXCEPTION, Violation.Kind.CLOCK, Violation.Kind.IDEMPOTENCY,
                Violation.Kind.LOST_WRITE);
    }

    @Test
    void tombstonesPurgedByTimeAloneLetDeletedValuesComeBackAndAreCaught() {
        Map<Violation.Kind, Integer> found = runAll(SimulationConfig.Canary.PURGE_BY_TIME);
        assertThat(found.getOrDefault(Violation.Kind.LOST_WRITE, 0) + found.getOrDefault(Violation.Kind.READ_YOUR_WRITES, 0))
                .as("seeds in which a deleted value came back, of %d: %s", SEEDS, found)
                .isPositive();
        assertThat(found).doesNotContainKeys(Violation.Kind.INVARIANT, Violation.Kind.EXCEPTION, Violation.Kind.CLOCK);
    }

    @Test
    void incomingReplicasThatTakeOverWithoutTheDataAreCaught() {
        Map<Violation.Kind, Integer> found = runAll(SimulationConfig.Canary.STREAM_NOTHING, true);
        assertThat(found.getOrDefault(Violation.Kind.LOST_WRITE, 0) + found.getOrDefault(Violation.Kind.READ_YOUR_WRITES, 0))
                .as("seeds in which a read missed an acknowledged write or a write was lost, of %d: %s", SEEDS, found)
                .isPositive();
        assertThat(found).doesNotContainKeys(Violation.Kind.EXCEPTION, Violation.Kind.CLOCK);
    }

    @Test
    void aPaxosProposerThatSkipsThePrepareReadIsCaughtByTheLinearizabilityChecker() {
        assertCaughtNotLinearizable(SimulationConfig.Canary.SKIP_PREPARE_READ);
    }

    @Test
    void aPaxosProposerThatRulesOutItsProposalsOnForgottenCommitsIsCaughtByTheLinearizabilityChecker() {
        assertCaughtNotLinearizable(SimulationConfig.Canary.FORGETFUL_COMMITS);
    }

    @Test
    void replicasThatTakePaxosStepsFromACoordinatorThatMissedTheChangeToSerialAreCaughtByTheLinearizabilityChecker() {
        assertCaughtNotLinearizable(SimulationConfig.Canary.STALE_SERIAL_PROPOSER);
    }

    /** A Paxos canary: some seed's compare-and-swap history is reported not linearizable, and nothing unrelated. */
    private static void assertCaughtNotLinearizable(SimulationConfig.Canary canary) {
        Map<Violation.Kind, Integer> found = runAll(canary);
        assertThat(found.getOrDefault(Violation.Kind.LINEARIZABILITY, 0))
                .as("seeds in which compare-and-swap was caught not linearizable, of %d: %s", SEEDS, found)
                .isPositive();
        assertNoFalseAlarms(found);
    }

    /** The canaries break one thing each: the checks for everything else must stay quiet. */
    private static void assertNoFalseAlarms(Map<Violation.Kind, Integer> found) {
        assertThat(found).doesNotContainKeys(Violation.Kind.INVARIANT, Violation.Kind.EXCEPTION, Violation.Kind.INTEGRITY,
                Violation.Kind.LIVENESS);
    }

    /** Per violation kind, in how many seeds it was found. */
    private static Map<Violation.Kind, Integer> runAll(SimulationConfig.Canary canary) {
        return runAll(canary, false);
    }

    private static Map<Violation.Kind, Integer> runAll(SimulationConfig.Canary canary, boolean membershipChanges) {
        Map<Violation.Kind, Integer> found = new EnumMap<>(Violation.Kind.class);
        List<String> examples = new ArrayList<>();
        for (int i = 0; i < SEEDS; i++) {
            SimulationResult r = Simulation.run(SimulationConfig.of(Seeds.nth(BASE_SEED, i)).canary(canary).membershipChanges(membershipChanges));
            r.violations().stream().map(Violation::kind).distinct().forEach(k -> found.merge(k, 1, Integer::sum));
            if (!r.passed() && examples.size() < 3) {
                examples.add(r.seedHex() + ": " + r.violations().get(0));
            }
        }
        System.out.println(canary + " canary: violations found per kind (seeds) " + found + "; e.g. " + examples);
        return found;
    }
}
