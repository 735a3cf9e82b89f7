package io.cairn.property;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/** A seeded source of random test inputs, with a size hint that bounds how large they get. */
public final class Gen {
    private final SplittableRandom random;
    private final int size;

    public Gen(long seed, int size) {
        this.random = new SplittableRandom(seed);
        this.size = Math.max(1, size);
    }

    /** The size hint for this trial, at least 1. */
    public int size() {
        return size;
    }

    /** Uniform in {@code [min, max]}. */
    public int between(int min, int max) {
        return max == Integer.MAX_VALUE ? random.nextInt(min - 1, max) + 1 : random.nextInt(min, max + 1);
    }

    /** Uniform in {@code [min, max]}. */
    public long between(long min, long max) {
        return max == Long.MAX_VALUE ? random.nextLong(min - 1, max) + 1 : random.nextLong(min, max + 1);
    }

    public long anyLong() {
        return random.nextLong();
    }

    /** True with probability {@code p}. */
    public boolean chance(double p) {
        return random.nextDouble() < p;
    }

    @SafeVarargs
    public final <T> T pick(T... options) {
        return options[random.nextInt(options.length)];
    }

    public <T> T pick(List<T> options) {
        return options.get(random.nextInt(options.size()));
    }

    /** Random bytes, length uniform in {@code [0, maxLength]}. */
    public byte[] bytes(int maxLength) {
        return bytes(0, maxLength);
    }

    public byte[] bytes(int minLength, int maxLength) {
        byte[] b = new byte[between(minLength, maxLength)];
        random.nextBytes(b);
        return b;
    }

    /** Up to {@code size()} elements (at least {@code min}). */
    public <T> List<T> list(int min, Supplier<T> element) {
        int n = between(Math.min(min, size), Math.max(min, size));
        List<T> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(element.get());
        }
        return out;
    }
}
