package io.cairn.cluster;

/**
 * Anti-entropy exchanges' knobs (see {@link Exchanger}).
 *
 * @param enabled             whether this node starts exchanges (it always answers them)
 * @param cycleMillis         how long one pass over every (partition, peer) pair of a node takes
 *                            when trees agree; pairs that found differences go again at once
 * @param maxSegmentsPerRound the most differing segments one round lists keys of
 * @param maxKeysPerRound     the most records one round pushes or fetches
 * @param maxListingBytes     the largest key listing a replica sends for one round
 * @param maxBytesPerSecond   the node's repair traffic budget (listings and records moved);
 *                            after a round that moved B bytes a shard waits B / its share
 * @param maxInFlight         record pushes and fetches one round keeps outstanding at once
 * @param purgeGraceMillis    the purge grace: a tombstone or expired record older than this that
 *                            one side lacks is neither pushed nor fetched (see the purge rule)
 */
public record ExchangeSettings(boolean enabled, long cycleMillis, int maxSegmentsPerRound, int maxKeysPerRound,
                               long maxListingBytes, long maxBytesPerSecond, int maxInFlight, long purgeGraceMillis) {
    public static final ExchangeSettings DEFAULTS = new ExchangeSettings(true, 60_000, 256, 1_000, 1 << 20, 8L << 20, 32,
            10L * 24 * 3_600_000);

    public ExchangeSettings {
        if (cycleMillis < 1 || maxSegmentsPerRound < 1 || maxKeysPerRound < 1 || maxListingBytes < 1024 || maxBytesPerSecond < 1024
                || maxInFlight < 1 || purgeGraceMillis < 0) {
            throw new IllegalArgumentException("anti-entropy settings out of range: " + this);
        }
    }
}
