package io.cairn.coordinator;

/** Counters a {@link Coordinator} keeps; read by its node's metrics. Single-threaded like the coordinator. */
public final class CoordinatorStats {
    long quorumFailures;
    long outcomeUnknown;
    long readRepairs;
    long hintsStored;

    public long quorumFailures() { return quorumFailures; }
    public long outcomeUnknown() { return outcomeUnknown; }
    public long readRepairs() { return readRepairs; }
    public long hintsStored() { return hintsStored; }
}
