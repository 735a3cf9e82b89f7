package io.cairn.cluster;

/**
 * The knobs of per-key Paxos ({@link Paxos}).
 *
 * @param timeoutMillis      how long one conditional write or serial read may take, over all its
 *                           rounds, before it is answered {@code contention},
 *                           {@code quorum_unavailable} or {@code outcome_unknown}
 * @param roundTimeoutMillis how long one phase of a round waits for a majority
 * @param minBackoffMillis   the least pause before a round that lost starts over
 * @param maxBackoffMillis   the most: pauses are drawn at random, doubling per attempt up to this
 * @param hedgeMillis        how long a prepare or a proposal sent to a bare majority of the replicas
 *                           waits for it before it goes to the others too (at most the round timeout)
 * @param leaseKeys          how many keys a node keeps a lease on (its next write of the key skips
 *                           the prepare; see {@code Paxos}), least recently used dropped first; 0: none
 */
public record PaxosSettings(long timeoutMillis, long roundTimeoutMillis, long minBackoffMillis, long maxBackoffMillis, long hedgeMillis,
                            int leaseKeys) {
    public static final long DEFAULT_MAX_BACKOFF_MILLIS = 50;
    public static final long DEFAULT_HEDGE_MILLIS = 20;
    public static final int DEFAULT_LEASE_KEYS = 65_536;
    /** The most {@code leaseKeys} may be (each lease holds a key and a few versions). */
    public static final int MAX_LEASE_KEYS = 10_000_000;

    public PaxosSettings(long timeoutMillis, long roundTimeoutMillis, long minBackoffMillis, long maxBackoffMillis, long hedgeMillis) {
        this(timeoutMillis, roundTimeoutMillis, minBackoffMillis, maxBackoffMillis, hedgeMillis, DEFAULT_LEASE_KEYS);
    }

    /** An operation gets twice the request timeout; a phase half of it (at least 1 ms); a hedge 20 ms, or the phase if shorter. */
    public static PaxosSettings forRequestTimeout(long requestTimeoutMillis) {
        long round = Math.max(1, requestTimeoutMillis / 2);
        return new PaxosSettings(Math.max(round, 2 * requestTimeoutMillis), round, 1, DEFAULT_MAX_BACKOFF_MILLIS, Math.min(round, DEFAULT_HEDGE_MILLIS));
    }

    public PaxosSettings {
        if (roundTimeoutMillis < 1 || timeoutMillis < roundTimeoutMillis) {
            throw new IllegalArgumentException("the paxos timeout must be at least the round timeout, which must be at least 1 ms");
        }
        if (hedgeMillis < 0 || hedgeMillis > roundTimeoutMillis) {
            throw new IllegalArgumentException("the paxos hedge must be between 0 and the round timeout");
        }
        if (leaseKeys < 0 || leaseKeys > MAX_LEASE_KEYS) {
            throw new IllegalArgumentException("paxos lease keys must be between 0 and " + MAX_LEASE_KEYS);
        }
        if (minBackoffMillis < 1 || maxBackoffMillis < minBackoffMillis) {
            throw new IllegalArgumentException("paxos backoff must be at least 1 ms, and its maximum at least its minimum");
        }
    }
}
