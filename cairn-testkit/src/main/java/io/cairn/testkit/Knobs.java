package io.cairn.testkit;

import io.cairn.cluster.ClusterSettings;
import io.cairn.cluster.CoordinatorSettings;
import io.cairn.cluster.ExchangeSettings;
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
             long maxClockOffsetMillis, long nemesisIntervalMillis, int maxDown, long healStallMillis, ClusterSettings settings,
             boolean loseHints) {
    /** The long purge grace: nothing is purged within a run. */
    static final long LONG_GRACE_MILLIS = 10L * 24 * 3_600_000;
    /**
     * The short purge grace: tombstones are purged within a run once the purge rule allows. It
     * must outlast anything that can still deliver an older version: the hint window below, a
     * request timeout, a long message delay and the largest clock jump, with room to spare.
     */
    static final long SHORT_GRACE_MILLIS = 20_000;
    static final long SHORT_HINT_WINDOW_MILLIS = 4_000;

    /**
     * Draws the knobs. Anti-entropy's knobs come from {@code exchange}, a stream of their own, so
     * the other draws are what they were before anti-entropy existed.
     */
    static Knobs draw(SplittableRandom random, SplittableRandom exchange, SimulationConfig.Scale scale, boolean sloppyQuorum) {
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
        // Silent divergence (hints lost in crashes, hints dropped past a short window, tombstones
        // purged within the run) breaks sloppy quorum's promises, where a hint counts toward W:
        // only seeds without it take these.
        boolean diverge = !sloppyQuorum && exchange.nextInt(2) == 0;
        // When an acknowledged write's unanswered replicas get their hints: at once, soon, or at the timeout.
        settings = new ClusterSettings(settings.replicationFactor(), settings.heartbeatIntervalMillis(), settings.phiThreshold(),
                settings.hintWindowMillis(), settings.hintReplayIntervalMillis(), settings.hintReplayBatch(), settings.hintReplayRate(),
                settings.coordinator().withHintDelay(pick(exchange, 0L, 50L, requestTimeout)));
        boolean shortGrace = diverge && exchange.nextBoolean();
        if (shortGrace) {
            settings = new ClusterSettings(settings.replicationFactor(), settings.heartbeatIntervalMillis(), settings.phiThreshold(),
                    SHORT_HINT_WINDOW_MILLIS, settings.hintReplayIntervalMillis(), settings.hintReplayBatch(), settings.hintReplayRate(),
                    settings.coordinator());
        }
        settings = settings.withAntiEntropy(new ExchangeSettings(true, pick(exchange, 3_000L, 6_000L, 12_000L),
                (int) pick(exchange, 4L, 256L), (int) pick(exchange, 8L, 1_000L), pick(exchange, 2_048L, 1L << 20),
                pick(exchange, 64L << 10, 8L << 20), (int) pick(exchange, 1L, 32L), shortGrace ? SHORT_GRACE_MILLIS : LONG_GRACE_MILLIS));
        // Requests from a newer epoch a node behind holds while it catches up: none (refused at
        // once), a few (the hold fills up under load), or the default. Drawn last, so the draws
        // above are what they were before the hold existed.
        settings = settings.withCoordinator(settings.coordinator().withBehindHoldBytes(
                pick(exchange, 0L, 2_048L, CoordinatorSettings.DEFAULT_BEHIND_HOLD_BYTES)));
        return new Knobs(nodes, zones, 3, 2 + random.nextInt(4), 1 + random.nextInt(3), 64,
                workload, maxOps, pick(random, 5L, 20L, 100L, 300L), pick(random, 5L, 20L, 50L),
                skew, maxClockOffset, 500 + random.nextLong(2_501), Math.max(1, (nodes - 1) / 2),
                30_000, settings, diverge);
    }

    /**
     * For the anti-entropy canaries: hints lost in crashes, no sloppy quorum, a short purge grace
     * when {@code shortGrace}, and exchanges on or off.
     */
    Knobs diverging(boolean shortGrace, boolean exchanges) {
        ClusterSettings s = new ClusterSettings(settings.replicationFactor(), settings.heartbeatIntervalMillis(), settings.phiThreshold(),
                shortGrace ? SHORT_HINT_WINDOW_MILLIS : settings.hintWindowMillis(), settings.hintReplayIntervalMillis(),
                settings.hintReplayBatch(), settings.hintReplayRate(), settings.coordinator().withSloppyQuorum(false));
        ExchangeSettings e = settings.antiEntropy();
        s = s.withAntiEntropy(new ExchangeSettings(exchanges, e.cycleMillis(), e.maxSegmentsPerRound(), e.maxKeysPerRound(),
                e.maxListingBytes(), e.maxBytesPerSecond(), e.maxInFlight(), shortGrace ? SHORT_GRACE_MILLIS : e.purgeGraceMillis()));
        return new Knobs(nodes, zones, replicationFactor, clients, sharedKeys, partitions, workloadMillis, maxOperations, maxThinkMillis,
                maxDelayMillis, clockSkewMillis, maxClockOffsetMillis, nemesisIntervalMillis, maxDown, healStallMillis, s, true);
    }

    long purgeGraceMillis() {
        return settings.antiEntropy().purgeGraceMillis();
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
                + "ms repair=" + settings.coordinator().readRepairTimeoutMillis() + "ms hintDelay=" + settings.coordinator().hintDelayMillis() + "ms"
                + (sloppyQuorum() ? " sloppyQuorum" : "") + " exchangeCycle=" + settings.antiEntropy().cycleMillis() + "ms"
                + " segments/keys/inFlight<=" + settings.antiEntropy().maxSegmentsPerRound() + "/" + settings.antiEntropy().maxKeysPerRound()
                + "/" + settings.antiEntropy().maxInFlight() + " listing<=" + settings.antiEntropy().maxListingBytes() + "B"
                + (loseHints ? " loseHints" : "") + " purgeGrace=" + purgeGraceMillis() + "ms hintWindow=" + settings.hintWindowMillis() + "ms";
    }
}
