package io.cairn.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Shared by the simulation tests: runs a seed, and on failure replays it verbosely into a trace file. */
final class SimulationRunner {
    private static final Path TRACES = Path.of("target", "simulation");

    private SimulationRunner() {}

    /** Runs the seed; returns the result, or throws an AssertionError naming the seed, the violations and the replay command. */
    static SimulationResult runAndCheck(String testClass, SimulationConfig config) {
        SimulationResult result = Simulation.run(config);
        if (config.verbose()) {
            writeTrace(result);
        }
        if (!result.passed()) {
            SimulationResult traced = config.verbose() ? result : Simulation.run(config.verbose(true));
            Path file = writeTrace(traced);
            StringBuilder b = new StringBuilder("seed ").append(result.seedHex()).append(" failed (").append(result.knobs()).append(")\n");
            result.violations().stream().limit(10).forEach(v -> b.append("  ").append(v).append('\n'));
            if (result.violations().size() > 10) {
                b.append("  ... and ").append(result.violations().size() - 10).append(" more\n");
            }
            b.append("replay: ").append(Seeds.replayCommand(testClass, config.seed(), config.scale())).append('\n');
            b.append("trace:  ").append(file.toAbsolutePath());
            if (traced.traceHash() != result.traceHash()) {
                b.append("\nWARNING: the verbose replay took a different path (trace hash differs): the run is not deterministic");
            }
            throw new AssertionError(b.toString());
        }
        return result;
    }

    static Path writeTrace(SimulationResult result) {
        try {
            Files.createDirectories(TRACES);
            Path file = TRACES.resolve("seed-" + result.seedHex() + ".log");
            List<String> lines = new java.util.ArrayList<>(result.trace());
            lines.add("trace hash " + Long.toHexString(result.traceHash()));
            result.violations().forEach(v -> lines.add("VIOLATION " + v));
            Files.write(file, lines);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
