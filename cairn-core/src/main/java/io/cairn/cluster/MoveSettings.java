package io.cairn.cluster;

/**
 * Moving partitions' knobs (see {@link Mover}).
 *
 * @param maxConcurrentMoves partitions a node streams in at once (shared among its core shards, at least one each)
 * @param chunkBytes         about how many bytes of records one stream chunk carries
 * @param maxBytesPerSecond  the node's streaming budget: after a chunk of B bytes a shard waits B / its share
 * @param tickMillis         how often a shard looks for moves to start, partitions to finish and data to drop
 * @param retryMillis        how long a stream waits before asking again after a failure or a silent owner,
 *                           and a report to the metadata log before it is sent again
 */
public record MoveSettings(int maxConcurrentMoves, int chunkBytes, long maxBytesPerSecond, long tickMillis, long retryMillis) {
    public static final MoveSettings DEFAULTS = new MoveSettings(2, 1 << 20, 32L << 20, 250, 1_000);

    public MoveSettings {
        if (maxConcurrentMoves < 1 || chunkBytes < 1024 || maxBytesPerSecond < 1024 || tickMillis < 1 || retryMillis < 1) {
            throw new IllegalArgumentException("move settings out of range: " + this);
        }
    }
}
