package io.cairn.replica;

import io.cairn.antientropy.PurgeGate;

/**
 * What a {@link LocalReplica} does for anti-entropy.
 *
 * @param keepTrees          keep a segment tree per partition (cluster nodes; a single node has
 *                           no replica to compare with)
 * @param gate               the safe purge rule: when a tombstone or expired record past its grace
 *                           may go ({@link PurgeGate#ALONE} on a single node)
 * @param purgeRecheckMillis how long a purge the gate held back waits before it is asked again
 */
public record ReplicaAntiEntropy(boolean keepTrees, PurgeGate gate, long purgeRecheckMillis) {
    public static final long DEFAULT_PURGE_RECHECK_MILLIS = 60_000;
    /** A single node: no trees, purges by time alone. */
    public static final ReplicaAntiEntropy NONE = new ReplicaAntiEntropy(false, PurgeGate.ALONE, DEFAULT_PURGE_RECHECK_MILLIS);

    public ReplicaAntiEntropy {
        if (purgeRecheckMillis < 1) {
            throw new IllegalArgumentException("the purge recheck interval must be at least 1 ms");
        }
    }
}
