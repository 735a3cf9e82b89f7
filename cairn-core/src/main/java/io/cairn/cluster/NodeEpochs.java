package io.cairn.cluster;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Which membership epoch this node and its peers have applied, shared by a node's core shards.
 * This node's epoch is the lowest any of its shards applied (a shard still routing by an older
 * epoch still issues requests stamped with it); a peer's is the newest its heartbeats showed, and
 * heartbeats carry the sender's node epoch. Moves use it as their barrier: a partition's next
 * step waits until every member applied its current one. Thread-safe; epochs only grow.
 */
public final class NodeEpochs {
    private final long[] shards;
    private final Map<Integer, Long> peers = new HashMap<>();

    public NodeEpochs(int shardCount, long epoch) {
        this.shards = new long[shardCount];
        Arrays.fill(shards, epoch);
    }

    public synchronized void applied(int shard, long epoch) {
        shards[shard] = Math.max(shards[shard], epoch);
    }

    /** The epoch every shard of this node has applied. */
    public synchronized long self() {
        return Arrays.stream(shards).min().orElseThrow();
    }

    public synchronized void heard(int peer, long epoch) {
        peers.merge(peer, epoch, Math::max);
    }

    /** The newest epoch any peer showed (0 when none has been heard). */
    public synchronized long newestPeer() {
        return peers.values().stream().mapToLong(Long::longValue).max().orElse(0);
    }

    /** The newest epoch {@code peer} showed (0 when it has not been heard). */
    public synchronized long peer(int peer) {
        return peers.getOrDefault(peer, 0L);
    }
}
