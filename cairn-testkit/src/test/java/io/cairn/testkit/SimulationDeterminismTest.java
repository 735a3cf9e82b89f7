package io.cairn.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** One seed, one run: the property every replay and every bisection relies on. */
class SimulationDeterminismTest {
    private static final List<Long> SEEDS = List.of(1L, 0xC0FFEEL, Seeds.nth(0xCA1_25EEDL, 7), Seeds.nth(0xCA1_25EEDL, 100));

    @Test
    void theSameSeedRunTwiceGivesAnIdenticalTrace() {
        for (long seed : SEEDS) {
            SimulationResult first = Simulation.run(SimulationConfig.of(seed));
            SimulationResult second = Simulation.run(SimulationConfig.of(seed));
            assertThat(second.traceHash()).as("trace hash of seed %s", Seeds.hex(seed)).isEqualTo(first.traceHash());
            assertThat(second.counters()).isEqualTo(first.counters());
            assertThat(second.history().operations().toString()).isEqualTo(first.history().operations().toString());
        }
    }

    @Test
    void soakRunsAndCanariesAreDeterministicToo() {
        for (SimulationConfig config : List.of(
                SimulationConfig.of(3).scale(SimulationConfig.Scale.SOAK),
                SimulationConfig.of(4).canary(SimulationConfig.Canary.ASYNC_DURABILITY),
                SimulationConfig.of(5).canary(SimulationConfig.Canary.WEAK_WRITE_QUORUM),
                SimulationConfig.of(6).canary(SimulationConfig.Canary.NO_CLOCK_BOUND))) {
            assertThat(Simulation.run(config).traceHash()).isEqualTo(Simulation.run(config).traceHash());
        }
    }

    @Test
    void tracingVerboselyDoesNotChangeTheRun() {
        for (long seed : SEEDS) {
            SimulationResult quiet = Simulation.run(SimulationConfig.of(seed));
            SimulationResult verbose = Simulation.run(SimulationConfig.of(seed).verbose(true));
            assertThat(verbose.traceHash()).isEqualTo(quiet.traceHash());
            assertThat(quiet.trace()).isEmpty();
            assertThat(verbose.trace()).hasSizeGreaterThan(100);
            assertThat(verbose.trace().get(0)).contains("seed " + Seeds.hex(seed));
        }
    }

    @Test
    void differentSeedsTakeDifferentPaths() {
        Set<Long> hashes = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            hashes.add(Simulation.run(SimulationConfig.of(Seeds.nth(42, i))).traceHash());
        }
        assertThat(hashes).hasSize(20);
    }
}
