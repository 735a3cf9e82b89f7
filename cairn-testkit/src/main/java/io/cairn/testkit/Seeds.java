package io.cairn.testkit;

/**
 * How simulation tests pick seeds and tell people how to replay one.
 *
 * <p>System properties: {@code cairn.seed} (hex, with or without 0x) runs only that seed, verbosely;
 * {@code cairn.simulation.seeds} sets how many seeds a run covers (default 200, or 5000 when
 * {@code cairn.soak=true}); {@code cairn.simulation.base} moves the whole seed sequence.
 */
public final class Seeds {
    public static final int DEFAULT_SEEDS = 200;
    public static final int SOAK_SEEDS = 5_000;

    private Seeds() {}

    public static boolean soak() {
        return Boolean.getBoolean("cairn.soak");
    }

    /** The seed given with {@code -Dcairn.seed}, or null. */
    public static Long replaySeed() {
        String s = System.getProperty("cairn.seed");
        if (s == null || s.isBlank()) {
            return null;
        }
        return parse(s);
    }

    public static long parse(String s) {
        return Long.parseUnsignedLong(s.trim().replaceFirst("^0[xX]", ""), 16);
    }

    public static int count() {
        return Integer.getInteger("cairn.simulation.seeds", soak() ? SOAK_SEEDS : DEFAULT_SEEDS);
    }

    public static long base(long defaultBase) {
        String s = System.getProperty("cairn.simulation.base");
        return s == null || s.isBlank() ? defaultBase : parse(s);
    }

    /** The i-th seed after {@code base}; neighbouring indices give unrelated seeds (SplitMix64 finaliser). */
    public static long nth(long base, int i) {
        long z = base + 0x9E3779B97F4A7C15L * (i + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public static String hex(long seed) {
        return "0x" + Long.toHexString(seed);
    }

    /** The one-line command that replays a seed of a simulation test class. */
    public static String replayCommand(String testClass, long seed, SimulationConfig.Scale scale) {
        return "./mvnw -pl cairn-testkit -am test -Dtest=" + testClass + " -Dcairn.seed=" + hex(seed)
                + (scale == SimulationConfig.Scale.SOAK ? " -Dcairn.soak=true" : "");
    }
}
