package io.cairn.cluster;


/**
 * A cluster node's knobs (all documented in docs/operations.md).
 *
 * @param replicationFactor     N: home replicas per partition
 * @param heartbeatIntervalMillis how often each node pings every other
 * @param phiThreshold          failure-detector suspicion level above which a peer is down
 * @param hintWindowMillis      hints older than this are dropped (anti-entropy covers them)
 * @param hintReplayIntervalMillis how often hint hand-off runs
 * @param hintReplayBatch       most hints handed to one target per replay round
 * @param hintReplayRate        most hints handed to one target per second (the throttle): a round
 *                              that ends early waits out {@code batch / rate} before the next
 * @param coordinator           the coordinator's knobs, sloppy quorum among them
 * @param antiEntropy           the exchanges' knobs
 * @param moves                 moving partitions' knobs
 * @param paxos                 per-key Paxos's knobs (conditional writes, serial reads)
 */
public record ClusterSettings(int replicationFactor, long heartbeatIntervalMillis, double phiThreshold,
                              long hintWindowMillis, long hintReplayIntervalMillis, int hintReplayBatch,
                              int hintReplayRate, CoordinatorSettings coordinator, ExchangeSettings antiEntropy, MoveSettings moves,
                              PaxosSettings paxos) {
    /** With Paxos timeouts derived from the request timeout ({@link PaxosSettings#forRequestTimeout}). */
    public ClusterSettings(int replicationFactor, long heartbeatIntervalMillis, double phiThreshold, long hintWindowMillis,
                           long hintReplayIntervalMillis, int hintReplayBatch, int hintReplayRate, CoordinatorSettings coordinator,
                           ExchangeSettings antiEntropy, MoveSettings moves) {
        this(replicationFactor, heartbeatIntervalMillis, phiThreshold, hintWindowMillis, hintReplayIntervalMillis, hintReplayBatch,
                hintReplayRate, coordinator, antiEntropy, moves, PaxosSettings.forRequestTimeout(coordinator.requestTimeoutMillis()));
    }

    /** With the default move settings. */
    public ClusterSettings(int replicationFactor, long heartbeatIntervalMillis, double phiThreshold, long hintWindowMillis,
                           long hintReplayIntervalMillis, int hintReplayBatch, int hintReplayRate, CoordinatorSettings coordinator,
                           ExchangeSettings antiEntropy) {
        this(replicationFactor, heartbeatIntervalMillis, phiThreshold, hintWindowMillis, hintReplayIntervalMillis, hintReplayBatch,
                hintReplayRate, coordinator, antiEntropy, MoveSettings.DEFAULTS);
    }

    public static final int DEFAULT_HINT_REPLAY_RATE = 4_000;
    public static final ClusterSettings DEFAULTS = new ClusterSettings(3, 500, 8.0, 3 * 3_600_000L, 1_000, 256, CoordinatorSettings.DEFAULTS);

    /** With the default anti-entropy settings. */
    public ClusterSettings(int replicationFactor, long heartbeatIntervalMillis, double phiThreshold, long hintWindowMillis,
                           long hintReplayIntervalMillis, int hintReplayBatch, int hintReplayRate, CoordinatorSettings coordinator) {
        this(replicationFactor, heartbeatIntervalMillis, phiThreshold, hintWindowMillis, hintReplayIntervalMillis, hintReplayBatch,
                hintReplayRate, coordinator, ExchangeSettings.DEFAULTS);
    }

    public ClusterSettings withAntiEntropy(ExchangeSettings exchange) {
        return new ClusterSettings(replicationFactor, heartbeatIntervalMillis, phiThreshold, hintWindowMillis, hintReplayIntervalMillis,
                hintReplayBatch, hintReplayRate, coordinator, exchange, moves, paxos);
    }

    public ClusterSettings withMoves(MoveSettings next) {
        return new ClusterSettings(replicationFactor, heartbeatIntervalMillis, phiThreshold, hintWindowMillis, hintReplayIntervalMillis,
                hintReplayBatch, hintReplayRate, coordinator, antiEntropy, next, paxos);
    }

    public ClusterSettings withCoordinator(CoordinatorSettings next) {
        return new ClusterSettings(replicationFactor, heartbeatIntervalMillis, phiThreshold, hintWindowMillis, hintReplayIntervalMillis,
                hintReplayBatch, hintReplayRate, next, antiEntropy, moves, paxos);
    }

    public ClusterSettings withPaxos(PaxosSettings next) {
        return new ClusterSettings(replicationFactor, heartbeatIntervalMillis, phiThreshold, hintWindowMillis, hintReplayIntervalMillis,
                hintReplayBatch, hintReplayRate, coordinator, antiEntropy, moves, next);
    }

    public ClusterSettings {
        if (replicationFactor < 1) {
            throw new IllegalArgumentException("replication factor must be at least 1");
        }
        if (hintReplayBatch < 1) {
            throw new IllegalArgumentException("hint replay batch must be at least 1");
        }
        if (hintReplayRate < 1) {
            throw new IllegalArgumentException("hint replay rate must be at least 1 per second");
        }
    }

    /** With the default hint replay rate. */
    public ClusterSettings(int replicationFactor, long heartbeatIntervalMillis, double phiThreshold, long hintWindowMillis,
                           long hintReplayIntervalMillis, int hintReplayBatch, CoordinatorSettings coordinator) {
        this(replicationFactor, heartbeatIntervalMillis, phiThreshold, hintWindowMillis, hintReplayIntervalMillis, hintReplayBatch,
                DEFAULT_HINT_REPLAY_RATE, coordinator);
    }

    /** The shortest time a replay round to one target may take: {@code hintReplayBatch / hintReplayRate}. */
    public long minReplayRoundMillis() {
        return hintReplayBatch * 1000L / hintReplayRate;
    }
}
