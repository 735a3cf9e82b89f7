package io.cairn.property;

import java.util.function.Consumer;

/**
 * Runs a property over many seeded random trials; the project's small replacement for a
 * property-testing library (no shrinking, but every failure replays from one seed).
 *
 * <p>Trial {@code i} of a run draws from {@code new Gen(seedOf(base, i), size)}, where the size
 * grows with {@code i}, so early trials are small and a failure found early is easy to read. A
 * failing trial reports its seed; {@code -Dcairn.seed=<seed>} replays exactly that trial (at the
 * largest size), and {@code -Dcairn.trials=<n>} runs more or fewer trials than the default.
 */
public final class Trials {
    private Trials() {}

    /** Runs {@code property} for {@code trials} seeds derived from {@code baseSeed}. */
    public static void run(long baseSeed, int trials, int maxSize, Consumer<Gen> property) {
        String replay = System.getProperty("cairn.seed");
        if (replay != null) {
            long seed = Long.parseUnsignedLong(replay.replaceFirst("^0x", ""), 16);
            runOne(seed, maxSize, -1, property);
            return;
        }
        int count = Integer.getInteger("cairn.trials", trials);
        for (int i = 0; i < count; i++) {
            int size = 1 + (int) ((long) (maxSize - 1) * i / Math.max(1, count - 1));
            runOne(seedOf(baseSeed, i), size, i, property);
        }
    }

    static long seedOf(long baseSeed, int trial) {
        // SplitMix64 finaliser: neighbouring trials get unrelated seeds.
        long z = baseSeed + 0x9E3779B97F4A7C15L * (trial + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static void runOne(long seed, int size, int trial, Consumer<Gen> property) {
        try {
            property.accept(new Gen(seed, size));
        } catch (Throwable failure) {
            String hex = Long.toHexString(seed);
            throw new AssertionError("property failed in trial " + trial + " (size " + size + ", seed 0x" + hex
                    + "); replay with -Dcairn.seed=" + hex + ": " + failure, failure);
        }
    }
}
