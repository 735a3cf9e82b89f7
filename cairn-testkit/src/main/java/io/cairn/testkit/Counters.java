package io.cairn.testkit;

import java.util.Map;
import java.util.TreeMap;

/** Named event counts of one run, in name order, for the run's summary and coverage checks. */
final class Counters {
    private final Map<String, Long> counts = new TreeMap<>();

    void add(String name) {
        counts.merge(name, 1L, Long::sum);
    }

    void put(String name, long value) {
        counts.put(name, value);
    }

    Map<String, Long> snapshot() {
        return Map.copyOf(counts);
    }

    @Override
    public String toString() {
        return counts.toString();
    }
}
