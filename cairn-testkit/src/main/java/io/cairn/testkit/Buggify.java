package io.cairn.testkit;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Decides, from the run's one random source, which {@link FaultPoint}s are enabled in this seed
 * and whether an enabled one fires now; counts the firings for the run's summary. Quiet mode
 * (the heal phase) switches every point off.
 */
final class Buggify {
    private final SplittableRandom random;
    private final EnumSet<FaultPoint> enabled = EnumSet.noneOf(FaultPoint.class);
    private final Map<FaultPoint, Long> fired = new EnumMap<>(FaultPoint.class);
    private final Map<FaultPoint, Double> probabilities = new EnumMap<>(FaultPoint.class);
    private boolean quiet;

    Buggify(SplittableRandom random) {
        this.random = random;
        for (FaultPoint p : FaultPoint.values()) {
            // Points the run enables on its own (so that adding them left every other draw as it was).
            if (p == FaultPoint.HINTS_LOST) {
                continue;
            }
            if (random.nextInt(4) != 0) {
                enabled.add(p);
            }
        }
    }

    /** Forces a point on for this run, firing with {@code probability} (canaries need their fault to happen). */
    void enable(FaultPoint point, double probability) {
        enabled.add(point);
        probabilities.put(point, probability);
    }

    boolean fires(FaultPoint point) {
        if (quiet || !enabled.contains(point)) {
            return false;
        }
        if (random.nextDouble() >= probabilities.getOrDefault(point, point.probability)) {
            return false;
        }
        fired.merge(point, 1L, Long::sum);
        return true;
    }

    void quiet() {
        quiet = true;
    }

    EnumSet<FaultPoint> enabled() {
        return enabled.clone();
    }

    Map<FaultPoint, Long> fired() {
        return new EnumMap<>(fired);
    }
}
