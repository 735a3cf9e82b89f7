package io.cairn.cluster;

/**
 * The coordinator's knobs.
 *
 * @param requestTimeoutMillis how long a client request waits for its quorum
 * @param readRepairTimeoutMillis how long a read waits for blocking repairs before answering anyway
 * @param sloppyQuorum whether fallback nodes may accept writes for unreachable home replicas and
 *                     count toward W (see {@link Coordinator}); off by default, because then an
 *                     acknowledged write may be missed by a read at R + W > N until hand-off completes
 */
public record CoordinatorSettings(long requestTimeoutMillis, long readRepairTimeoutMillis, boolean sloppyQuorum) {
    public static final CoordinatorSettings DEFAULTS = new CoordinatorSettings(2_000, 500, false);

    /** Strict quorums: writes go to home replicas only. */
    public CoordinatorSettings(long requestTimeoutMillis, long readRepairTimeoutMillis) {
        this(requestTimeoutMillis, readRepairTimeoutMillis, false);
    }

    public CoordinatorSettings withSloppyQuorum(boolean on) {
        return new CoordinatorSettings(requestTimeoutMillis, readRepairTimeoutMillis, on);
    }
}
