package io.cairn.cluster;

/** Counters a {@link Coordinator} keeps; read by its node's metrics. Single-threaded like the coordinator. */
public final class CoordinatorStats {
    long quorumFailures;
    long outcomeUnknown;
    long readRepairs;
    long hintsStored;
    long fallbackHints;
    long clockUnsafe;

    public long quorumFailures() { return quorumFailures; }
    public long outcomeUnknown() { return outcomeUnknown; }
    public long readRepairs() { return readRepairs; }
    public long hintsStored() { return hintsStored; }
    /** Writes handed to a fallback node (possibly this one) for a down home replica: sloppy quorum only. */
    public long fallbackHints() { return fallbackHints; }
    /** Writes refused with {@code clock_unsafe} because this node's clock was off by more than the max offset. */
    public long clockUnsafe() { return clockUnsafe; }

    /** The counters of several coordinators (a node's shards) added up, as of now. */
    public static CoordinatorStats sum(java.util.List<CoordinatorStats> all) {
        CoordinatorStats total = new CoordinatorStats();
        for (CoordinatorStats s : all) {
            total.quorumFailures += s.quorumFailures;
            total.outcomeUnknown += s.outcomeUnknown;
            total.readRepairs += s.readRepairs;
            total.hintsStored += s.hintsStored;
            total.fallbackHints += s.fallbackHints;
            total.clockUnsafe += s.clockUnsafe;
        }
        return total;
    }
}
