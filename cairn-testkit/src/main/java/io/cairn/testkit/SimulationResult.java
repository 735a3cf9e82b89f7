package io.cairn.testkit;

import java.util.List;
import java.util.Map;

/**
 * What one run found.
 *
 * @param seed       the seed that reproduces it
 * @param traceHash  hash over every event; equal for two runs of one seed
 * @param violations empty when every checker and invariant held
 * @param counters   what happened (operations by outcome, faults fired, hints, repairs), for coverage
 * @param trace      readable event lines when the run was verbose, else empty
 */
public record SimulationResult(SimulationConfig config, long seed, String knobs, long traceHash, List<Violation> violations,
                               Map<String, Long> counters, History history, List<String> trace) {
    public boolean passed() {
        return violations.isEmpty();
    }

    public boolean found(Violation.Kind kind) {
        return violations.stream().anyMatch(v -> v.kind() == kind);
    }

    /** The seed in the form {@code -Dcairn.seed} takes. */
    public String seedHex() {
        return Seeds.hex(seed);
    }
}
