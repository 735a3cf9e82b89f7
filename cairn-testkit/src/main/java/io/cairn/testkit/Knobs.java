package io.cairn.testkit;

import io.cairn.cluster.ClusterSettings;
import io.cairn.cluster.CoordinatorSettings;
import java.util.SplittableRandom;

/**
 * The randomized shape of one run (FoundationDB's "knobs"): cluster size and zones, workload
 * size, network latency, clock skew and the max clock offset, and the cluster's own settings, all drawn from the seed so
 * that every seed explores a slightly different system. Whether the run uses sloppy quorum is
 * drawn by the caller from a stream of its own, so that the other knobs (and whole runs without
 * sloppy quorum) are what they were before sloppy quorum existed.
 */
record Knobs(int nodes, int zones, int replicationFactor, int clients, int sharedKeys, int partitions,
             long workloadMillis, int maxOperations, long maxThinkMillis, long maxDelayMillis, long clockSkewMillis,
             long maxClockOffsetMillis, long nemesisIntervalMillis, int maxDown, long healStallMillis, ClusterSettings settings) {

    static Knobs draw(SplittableRandom random, SimulationConfig.Scale scale, boolean sloppyQuorum) {
        int nodes = 3 + random.nextInt(5);
        int zones = 2 + random.nextInt(Math.min(3, nodes - 1));
        boolean soak = scale == SimulationConfig.Scale.SOAK;
        long workload = soak ? 60_000 + random.nextLong(90_001) : 30_000 + random.nextLong(30_001);
        int maxOps = soak ? 800 + random.nextInt(1_201) : 200 + random.nextInt(201);
        long heartbeat = pick(random, 200L, 250L, 500L);
        long requestTimeout = pick(random, 500L, 1_000L, 2_000L);
        ClusterSettings settings = new ClusterSettings(3, heartbeat, 8.0, ClusterSettings.DEFAULTS.hintWindowMillis(),
                pick(random, 250L, 500L, 1_000L), (int) pick(random, 1L, 4L, 64L, 256L),
                new CoordinatorSettings(requestTimeout, pick(random, 100L, 250L, 500L), sloppyQuorum));
        // Skews stay well within the max offset (two nodes differ by at most half of it): clocks
        // beyond the bound come from the CLOCK_JUMP and CLOCK_OUTLIER faults, and go away again.
        long maxClockOffset = pick(random, 250L, 500L, 1_000L);
        long skew = Math.min(pick(random, 0L, 2L, 20L, 200L), maxClockOffset / 4);
        return new Knobs(nodes, zones, 3, 2 + random.nextInt(4), 1 + random.nextInt(3), 64,
                workload, maxOps, pick(random, 5L, 20L, 100L, 300L), pick(random, 5L, 20L, 50L),
                skew, maxClockOffset, 500 + random.nextLong(2_501), Math.max(1, (nodes - 1) / 2),
                30_000, settings);
    }

    boolean sloppyQuorum() {
        return settings.coordinator().sloppyQuorum();
    }

    private static long pick(SplittableRandom random, long... options) {
        return options[random.nextInt(options.length)];
    }

    @Override
    public String toString() {
        return "nodes=" + nodes + " zones=" + zones + " N=" + replicationFactor + " clients=" + clients
                + " sharedKeys=" + sharedKeys + " workload=" + workloadMillis + "ms maxOps=" + maxOperations
                + " think<=" + maxThinkMillis + "ms delay<=" + maxDelayMillis + "ms skew<=" + clockSkewMillis
                + "ms maxClockOffset=" + maxClockOffsetMillis + "ms nemesis~" + nemesisIntervalMillis + "ms maxDown=" + maxDown
                + " heartbeat=" + settings.heartbeatIntervalMillis() + "ms replay=" + settings.hintReplayIntervalMillis()
                + "ms/" + settings.hintReplayBatch() + " timeout=" + settings.coordinator().requestTimeoutMillis()
                + "ms repair=" + settings.coordinator().readRepairTimeoutMillis() + "ms"
                + (sloppyQuorum() ? " sloppyQuorum" : "");
    }
}
