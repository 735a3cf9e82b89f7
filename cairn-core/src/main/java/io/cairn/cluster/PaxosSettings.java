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
 */
public record PaxosSettings(long timeoutMillis, long roundTimeoutMillis, long minBackoffMillis, long maxBackoffMillis) {
    public static final long DEFAULT_MAX_BACKOFF_MILLIS = 50;

    /** An operation gets twice the request timeout; a phase half of it (at least 1 ms). */
    public static PaxosSettings forRequestTimeout(long requestTimeoutMillis) {
        long round = Math.max(1, requestTimeoutMillis / 2);
        return new PaxosSettings(Math.max(round, 2 * requestTimeoutMillis), round, 1, DEFAULT_MAX_BACKOFF_MILLIS);
    }

    public PaxosSettings {
        if (roundTimeoutMillis < 1 || timeoutMillis < roundTimeoutMillis) {
            throw new IllegalArgumentException("the paxos timeout must be at least the round timeout, which must be at least 1 ms");
        }
        if (minBackoffMillis < 1 || maxBackoffMillis < minBackoffMillis) {
            throw new IllegalArgumentException("paxos backoff must be at least 1 ms, and its maximum at least its minimum");
        }
    }
}
