package io.cairn.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The whole cluster under faults, one dynamic test per seed (200 by default; see
 * {@link Seeds} for the properties). {@code -Dcairn.seed=<hex>} replays one seed verbosely and
 * writes its trace to {@code cairn-testkit/target/simulation/}.
 *
 * <p>One seed in three runs with sloppy quorum (see {@link Simulation#drawsSloppyQuorum}).
 *
 * <p>The last test checks coverage over all seeds: a simulator that quietly stopped crashing
 * nodes or losing messages would otherwise keep passing while testing nothing.
 */
class ClusterSimulation {
    private static final long BASE_SEED = 0xCA1_25EEDL;

    @TestFactory
    Stream<DynamicTest> seeds() {
        SimulationConfig.Scale scale = Seeds.soak() ? SimulationConfig.Scale.SOAK : SimulationConfig.Scale.SMALL;
        Long replay = Seeds.replaySeed();
        if (replay != null) {
            return Stream.of(dynamicTest("seed " + Seeds.hex(replay), () -> SimulationRunner.runAndCheck(
                    "ClusterSimulation", SimulationConfig.of(replay).scale(scale).verbose(true))));
        }
        long base = Seeds.base(BASE_SEED);
        int count = Seeds.count();
        Map<String, Long> totals = new TreeMap<>();
        Stream<DynamicTest> runs = IntStream.range(0, count).mapToObj(i -> Seeds.nth(base, i)).map(seed ->
                dynamicTest("seed " + Seeds.hex(seed), () -> {
                    SimulationResult r = SimulationRunner.runAndCheck("ClusterSimulation", SimulationConfig.of(seed).scale(scale));
                    r.counters().forEach((k, v) -> totals.merge(k, v, Long::sum));
                    totals.merge("seeds", 1L, Long::sum);
                }));
        return Stream.concat(runs, Stream.of(dynamicTest("faults and recovery paths were exercised", () -> {
            System.out.println("simulation totals over " + totals.get("seeds") + " passing seeds (" + scale + "): " + totals);
            if (totals.getOrDefault("seeds", 0L) < Math.min(count, 50)) {
                return; // Too few passing seeds to judge coverage; the failing ones already report.
            }
            for (String counter : new String[] {"crashes", "partitions", "clockJumps", "messages.lost", "messages.duplicated",
                    "hints.stored", "hints.replayed", "readRepairs", "ops.written", "ops.deleted", "ops.found", "ops.not_found",
                    "ops.unknown", "ops.failed", "fault.CRASH_MID_REQUEST", "fault.CRASH_AFTER_ACK", "fault.CRASH_LOSES_SENDS",
                    "fault.QUICK_RESTART", "fault.ONE_WAY_PARTITION", "fault.MESSAGE_LONG_DELAY", "fault.SLOW_DISK",
                    "fault.WRITE_REFUSED", "fault.READ_ERROR", "fault.BURST", "cas.written", "cas.read", "cas.conditionFailed", "cas.unknown", "cas.keysLinearizable",
                    "sloppySeeds", "hints.toFallbacks", "hints.keptForPeers", "ops.fallbackAcknowledged",
                    "clockOutliers", "fault.HOSTILE_RECORD", "messages.forged", "clock.refusals", "coordinator.clockUnsafe",
                    "clockUnsafe.peer_offsets", "clockUnsafe.ahead_of_wall_clock", "clockUnsafe.wall_clock_went_back",
                    "idem.recorded", "idem.replayed", "idem.unrecorded", "idem.refused.reused", "batch.ordered", "batch.partial", "inspections",
                    "shards.multi", "shards.changed", "tokens.created", "tokens.revoked", "tokens.looked", "tokens.revocationSeen",
                    "exchange.pushed", "exchange.fetched", "purges.done", "purges.held", "corrupt.found", "corrupt.repaired",
                    "hints.lostInCrashes", "longDowntimes", "paxos.foundCommitted", "paxos.ruledOut", "paxos.queued", "paxos.widened",
                    "paxos.staleStamps", "idem.conditionFailed", "paxos.leased", "paxos.leaseLost",
                    "flip.changes", "cas.flipOps", "cas.atLaggard", "cas.rechecks",
                    "paxos.answeredChosen"}) {
                assertThat(totals.getOrDefault(counter, 0L)).as("total %s over all seeds", counter).isPositive();
            }
        })));
    }
}
