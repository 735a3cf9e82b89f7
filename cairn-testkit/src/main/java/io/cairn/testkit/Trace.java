package io.cairn.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The record of everything a run did: a running 64-bit hash over every event (always kept, so
 * two runs of a seed can be compared cheaply) and, in verbose mode, readable lines.
 *
 * <p>The hash is fed from structured values, never from the text lines, so switching verbose
 * mode on does not change it.
 */
final class Trace {
    private static final int MAX_LINES = 2_000_000;

    private final boolean verbose;
    private final List<String> lines = new ArrayList<>();
    private long hash = 0x43_41_49_52_4EL;
    private long events;

    Trace(boolean verbose) {
        this.verbose = verbose;
    }

    boolean verbose() {
        return verbose;
    }

    /** Mixes values describing one event into the hash. */
    void mix(long a, long b, long c, long d) {
        events++;
        hash = step(step(step(step(hash, a), b), c), d);
    }

    /** Adds a readable line (verbose mode only); the supplier is not called otherwise. */
    void line(long timeMillis, Supplier<String> text) {
        if (verbose && lines.size() < MAX_LINES) {
            lines.add(String.format("%9d  %s", timeMillis, text.get()));
        }
    }

    long hash() {
        return hash;
    }

    long events() {
        return events;
    }

    List<String> lines() {
        return lines;
    }

    private static long step(long h, long v) {
        // One round of a SplitMix64-style mixer: cheap, and every input bit reaches every output bit.
        long z = h ^ (v + 0x9E3779B97F4A7C15L + (h << 6) + (h >>> 2));
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
