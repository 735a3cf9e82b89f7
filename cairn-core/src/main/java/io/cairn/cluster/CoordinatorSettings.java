package io.cairn.cluster;

/**
 * The coordinator's knobs.
 *
 * @param requestTimeoutMillis how long a client request waits for its quorum
 * @param readRepairTimeoutMillis how long a read waits for blocking repairs before answering anyway
 * @param sloppyQuorum whether fallback nodes may accept writes for unreachable home replicas and
 *                     count toward W (see {@link Coordinator}); off by default, because then an
 *                     acknowledged write may be missed by a read at R + W > N until hand-off completes
 * @param hintDelayMillis once a write is acknowledged, how long a home replica that has not
 *                        answered yet gets before the coordinator stores a hint for it (instead of
 *                        waiting for the request timeout): the window in which a coordinator crash
 *                        leaves the replica's missing copy to anti-entropy alone
 * @param behindLimitMillis how long a node may route by an older membership epoch than one its
 *                          peers showed before it stops coordinating client requests (it is cut
 *                          off from the metadata log; the server uses {@code node.stallTimeout},
 *                          the same bound its {@code /ready} applies)
 * @param maxBatchReadBytes the most bytes of values a batch's reads return
 * @param behindHoldBytes   the most bytes of replica requests from a newer epoch this node holds
 *                          while it catches up, each at most {@code requestTimeoutMillis} (see
 *                          {@link CatchUpHold}); 0 refuses them at once
 */
public record CoordinatorSettings(long requestTimeoutMillis, long readRepairTimeoutMillis, boolean sloppyQuorum, long hintDelayMillis,
                                  long behindLimitMillis, long maxBatchReadBytes, long behindHoldBytes) {
    public static final long DEFAULT_HINT_DELAY_MILLIS = 100;
    public static final long DEFAULT_BEHIND_LIMIT_MILLIS = 5_000;
    /** Per node ({@code cluster.behindHoldBytes}); the server splits it over the core shards. */
    public static final long DEFAULT_BEHIND_HOLD_BYTES = 4L << 20;
    public static final CoordinatorSettings DEFAULTS = new CoordinatorSettings(2_000, 500, false);

    public CoordinatorSettings {
        if (hintDelayMillis < 0 || hintDelayMillis > requestTimeoutMillis) {
            throw new IllegalArgumentException("the hint delay must be between 0 and the request timeout");
        }
        if (behindLimitMillis < 1) {
            throw new IllegalArgumentException("the behind limit must be positive");
        }
        if (maxBatchReadBytes < 1) {
            throw new IllegalArgumentException("the batch read limit must be positive");
        }
        if (behindHoldBytes < 0) {
            throw new IllegalArgumentException("the behind hold limit must not be negative");
        }
    }

    public CoordinatorSettings(long requestTimeoutMillis, long readRepairTimeoutMillis, boolean sloppyQuorum, long hintDelayMillis,
                               long behindLimitMillis, long maxBatchReadBytes) {
        this(requestTimeoutMillis, readRepairTimeoutMillis, sloppyQuorum, hintDelayMillis, behindLimitMillis, maxBatchReadBytes,
                DEFAULT_BEHIND_HOLD_BYTES);
    }

    public CoordinatorSettings(long requestTimeoutMillis, long readRepairTimeoutMillis, boolean sloppyQuorum, long hintDelayMillis,
                               long behindLimitMillis) {
        this(requestTimeoutMillis, readRepairTimeoutMillis, sloppyQuorum, hintDelayMillis, behindLimitMillis,
                io.cairn.request.Limits.DEFAULT_MAX_BATCH_READ_BYTES);
    }

    public CoordinatorSettings(long requestTimeoutMillis, long readRepairTimeoutMillis, boolean sloppyQuorum, long hintDelayMillis) {
        this(requestTimeoutMillis, readRepairTimeoutMillis, sloppyQuorum, hintDelayMillis, DEFAULT_BEHIND_LIMIT_MILLIS);
    }

    /** With the default hint delay (or the request timeout, when shorter). */
    public CoordinatorSettings(long requestTimeoutMillis, long readRepairTimeoutMillis, boolean sloppyQuorum) {
        this(requestTimeoutMillis, readRepairTimeoutMillis, sloppyQuorum, Math.min(DEFAULT_HINT_DELAY_MILLIS, requestTimeoutMillis));
    }

    /** Strict quorums: writes go to home replicas only. */
    public CoordinatorSettings(long requestTimeoutMillis, long readRepairTimeoutMillis) {
        this(requestTimeoutMillis, readRepairTimeoutMillis, false);
    }

    public CoordinatorSettings withSloppyQuorum(boolean on) {
        return new CoordinatorSettings(requestTimeoutMillis, readRepairTimeoutMillis, on, hintDelayMillis, behindLimitMillis, maxBatchReadBytes, behindHoldBytes);
    }

    public CoordinatorSettings withHintDelay(long millis) {
        return new CoordinatorSettings(requestTimeoutMillis, readRepairTimeoutMillis, sloppyQuorum, millis, behindLimitMillis, maxBatchReadBytes, behindHoldBytes);
    }

    public CoordinatorSettings withBehindLimit(long millis) {
        return new CoordinatorSettings(requestTimeoutMillis, readRepairTimeoutMillis, sloppyQuorum, hintDelayMillis, millis, maxBatchReadBytes, behindHoldBytes);
    }

    /** A batch's reads return at most this many bytes of values ({@code limits.maxBatchReadBytes}, {@link io.cairn.request.Limits}). */
    public CoordinatorSettings withMaxBatchReadBytes(long bytes) {
        return new CoordinatorSettings(requestTimeoutMillis, readRepairTimeoutMillis, sloppyQuorum, hintDelayMillis, behindLimitMillis, bytes, behindHoldBytes);
    }

    /** Replica requests from a newer epoch held while catching up: at most this many bytes ({@link CatchUpHold}). */
    public CoordinatorSettings withBehindHoldBytes(long bytes) {
        return new CoordinatorSettings(requestTimeoutMillis, readRepairTimeoutMillis, sloppyQuorum, hintDelayMillis, behindLimitMillis,
                maxBatchReadBytes, bytes);
    }
}
