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
 * The whole cluster under faults while its membership changes through the metadata log: spare
 * nodes join, members are decommissioned, nodes die for good and are removed or replaced, and
 * changes are paused, resumed and cancelled, all interleaved with client traffic, crashes,
 * partitions, message loss and clock skew. On top of the checks every run has (no acknowledged
 * write lost, read-your-writes, convergence, no resurrected delete), the change must finish once
 * faults stop, with every partition on exactly N replicas in the final epoch, and no node may
 * hold a copy of a partition it does not own. One dynamic test per seed (200 by default; see
 * {@link Seeds}); {@code -Dcairn.seed=<hex>} replays one verbosely.
 */
class MembershipSimulation {
    private static final long BASE_SEED = 0xE1A5_71CL;

    @TestFactory
    Stream<DynamicTest> seeds() {
        SimulationConfig.Scale scale = Seeds.soak() ? SimulationConfig.Scale.SOAK : SimulationConfig.Scale.SMALL;
        Long replay = Seeds.replaySeed();
        if (replay != null) {
            return Stream.of(dynamicTest("seed " + Seeds.hex(replay), () -> SimulationRunner.runAndCheck(
                    "MembershipSimulation", SimulationConfig.of(replay).scale(scale).membershipChanges(true).verbose(true))));
        }
        long base = Seeds.base(BASE_SEED);
        int count = Seeds.count();
        Map<String, Long> totals = new TreeMap<>();
        Stream<DynamicTest> runs = IntStream.range(0, count).mapToObj(i -> Seeds.nth(base, i)).map(seed ->
                dynamicTest("seed " + Seeds.hex(seed), () -> {
                    SimulationResult r = SimulationRunner.runAndCheck("MembershipSimulation",
                            SimulationConfig.of(seed).scale(scale).membershipChanges(true));
                    r.counters().forEach((k, v) -> totals.merge(k, v, Long::sum));
                    totals.merge("seeds", 1L, Long::sum);
                }));
        return Stream.concat(runs, Stream.of(dynamicTest("membership changes were exercised", () -> {
            System.out.println("membership simulation totals over " + totals.get("seeds") + " passing seeds: " + totals);
            if (totals.getOrDefault("seeds", 0L) < Math.min(count, 50)) {
                return;
            }
            for (String counter : new String[] {"membership.join", "membership.decommission", "membership.remove", "membership.replace",
                    "membership.cancel", "membership.pause", "membership.plansCompleted", "membership.refused", "moves.streamsCompleted",
                    "moves.partitionsDropped", "metadata.reports.gathered", "crashes", "partitions", "behind.held"}) {
                assertThat(totals.getOrDefault(counter, 0L)).as("total %s over all seeds", counter).isPositive();
            }
        })));
    }
}
