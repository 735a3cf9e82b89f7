package io.cairn.cluster;

/**
 * Which of a node's core shards a {@link ClusterNode} is: shard {@code index} of {@code count}.
 *
 * <p>A node splits its coordination work over {@code count} shards, each a single-threaded
 * {@link ClusterNode} with its own coordinator, failure detector, clock monitor, hints and version
 * ceiling, sharing only the node's storage and hybrid clock (both thread-safe). {@link ShardRouter}
 * says which shard a request or message belongs to. The shard shows in every id a shard hands out
 * where an answer must find its way back to it: request ids and heartbeat sequences are
 * {@code index} modulo {@code count}, and so are the sequence numbers in its hint keys, which say
 * which shard owns a stored hint.
 */
public record Shard(int index, int count) {
    /** The most shards a node may run (far more than the cores of any machine it runs on). */
    public static final int MAX_SHARDS = 256;
    /** A node of one shard: the whole node. */
    public static final Shard ONLY = new Shard(0, 1);

    public Shard {
        requireCount(count);
        if (index < 0 || index >= count) {
            throw new IllegalArgumentException("shard " + index + " of " + count);
        }
    }

    /** {@code count}, if a node may run that many shards. */
    static int requireCount(int count) {
        if (count < 1 || count > MAX_SHARDS) {
            throw new IllegalArgumentException("a node runs 1 to " + MAX_SHARDS + " shards, not " + count);
        }
        return count;
    }

    /** Whether {@code id}, handed out by a shard of this node, was handed out by this one. */
    public boolean owns(long id) {
        return Math.floorMod(id, count) == index;
    }

    /**
     * The smallest id owned by this shard that is at least {@code floor}: where a shard's ids start
     * (its next ones are that plus multiples of {@link #count}).
     */
    public long firstAtLeast(long floor) {
        long r = Math.floorMod(floor, count);
        return floor + Math.floorMod(index - r, count);
    }
}
