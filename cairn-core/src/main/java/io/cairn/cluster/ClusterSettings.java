package io.cairn.cluster;

import io.cairn.coordinator.CoordinatorSettings;

/**
 * A cluster node's knobs (all documented in docs/operations.md).
 *
 * @param replicationFactor     N: home replicas per partition
 * @param heartbeatIntervalMillis how often each node pings every other
 * @param phiThreshold          failure-detector suspicion level above which a peer is down
 * @param hintWindowMillis      hints older than this are dropped (anti-entropy covers them)
 * @param hintReplayIntervalMillis how often hint hand-off runs
 * @param hintReplayBatch       most hints handed to one target per replay round (the throttle)
 * @param coordinator           the coordinator's knobs, sloppy quorum among them
 */
public record ClusterSettings(int replicationFactor, long heartbeatIntervalMillis, double phiThreshold,
                              long hintWindowMillis, long hintReplayIntervalMillis, int hintReplayBatch,
                              CoordinatorSettings coordinator) {
    public static final ClusterSettings DEFAULTS = new ClusterSettings(3, 500, 8.0, 3 * 3_600_000L, 1_000, 256, CoordinatorSettings.DEFAULTS);

    public ClusterSettings {
        if (replicationFactor < 1) {
            throw new IllegalArgumentException("replication factor must be at least 1");
        }
        if (hintReplayBatch < 1) {
            throw new IllegalArgumentException("hint replay batch must be at least 1");
        }
    }
}
