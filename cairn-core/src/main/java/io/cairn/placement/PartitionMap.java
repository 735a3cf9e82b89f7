package io.cairn.placement;

import java.util.Arrays;
import java.util.List;

/**
 * Which nodes hold each partition, at one epoch: for every partition, its preference list — the N
 * home replicas first, then every other node as a fallback, in a fixed order.
 *
 * <p>Every node computes the same map from the same members (see {@link Placement}); the epoch
 * lets a later metadata group version it, so a request routed by an old map can be detected.
 */
public final class PartitionMap {
    private final long epoch;
    private final int replicationFactor;
    // Invariant: preferences[p] holds every member id exactly once, home replicas first.
    private final int[][] preferences;

    PartitionMap(long epoch, int replicationFactor, int[][] preferences) {
        this.epoch = epoch;
        this.replicationFactor = replicationFactor;
        this.preferences = preferences;
    }

    public long epoch() {
        return epoch;
    }

    public int partitions() {
        return preferences.length;
    }

    /** N: how many home replicas each partition has (at most the member count). */
    public int replicationFactor() {
        return replicationFactor;
    }

    /** The N home replicas of a partition, in preference order. */
    public int[] replicas(int partition) {
        return Arrays.copyOf(preferences[partition], replicationFactor);
    }

    /** The full preference list: home replicas, then fallbacks. */
    public int[] preferenceList(int partition) {
        return preferences[partition].clone();
    }

    public boolean isReplica(int partition, int nodeId) {
        for (int i = 0; i < replicationFactor; i++) {
            if (preferences[partition][i] == nodeId) {
                return true;
            }
        }
        return false;
    }

    /** How many partitions each node is a home replica of, indexed like {@code nodes}. */
    public int[] replicaCounts(List<Integer> nodes) {
        int[] counts = new int[nodes.size()];
        for (int[] pref : preferences) {
            for (int i = 0; i < replicationFactor; i++) {
                counts[nodes.indexOf(pref[i])]++;
            }
        }
        return counts;
    }
}
