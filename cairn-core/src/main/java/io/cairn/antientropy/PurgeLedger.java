package io.cairn.antientropy;

import java.util.concurrent.ConcurrentHashMap;

/**
 * What exchanges have confirmed, for the sweeper: per (namespace, partition) and tree branch, the
 * stamp up to which every other replica is known to hold what this one held. Written by the core
 * shard that runs the partition's exchanges, read by the sweeper on the applier thread. In memory
 * only: after a restart nothing is confirmed until the next exchanges, so purges wait (never the
 * other way round).
 */
public final class PurgeLedger implements PurgeGate {
    private final ConcurrentHashMap<Long, long[]> confirmed = new ConcurrentHashMap<>();

    /** Publishes the branches' confirmed stamps (the minimum over the partition's other replicas). */
    public void publish(int namespaceId, int partition, long[] byBranch) {
        if (byBranch.length != SegmentTree.BRANCHES) {
            throw new IllegalArgumentException(byBranch.length + " branch stamps");
        }
        confirmed.put(TreeKeeper.slotKey(namespaceId, partition), byBranch.clone());
    }

    @Override
    public boolean confirmed(int namespaceId, int partition, int branch, long stamp) {
        long[] c = confirmed.get(TreeKeeper.slotKey(namespaceId, partition));
        return c != null && c[branch] > stamp;
    }
}
