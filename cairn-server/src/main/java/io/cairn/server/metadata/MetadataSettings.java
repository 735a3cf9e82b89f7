package io.cairn.server.metadata;

import java.time.Duration;
import java.util.Objects;

/**
 * The knobs of the metadata log ({@link RatisMetadataLog}).
 *
 * @param requestTimeout      bound on one {@link MetadataLog#submit}: without a leader holding a
 *                            majority the command fails with {@link MetadataUnavailableException}
 *                            by then. Also bounds a reconfiguration attempt of the group
 * @param electionTimeoutMin  a follower that hears no leader for a random time between min and max
 *                            starts an election. Longer means fewer needless elections on a loaded
 *                            machine (GC pauses, slow disks); shorter means a dead leader is replaced
 *                            sooner. Heartbeats go out at about half the minimum
 * @param electionTimeoutMax  see {@code electionTimeoutMin}; must exceed it so that candidates do not
 *                            keep splitting the vote
 * @param snapshotEveryEntries a snapshot of the state is taken once this many entries were applied
 *                            since the last one; a restart loads it and replays only the entries after
 *                            it, and a lagging peer is sent it instead of the whole log. The log is
 *                            purged up to the snapshot (whole closed segments only)
 * @param logSegmentBytes     the log rolls to a new segment file past this size; only closed
 *                            segments are purged after a snapshot, so small segments keep the log
 *                            short. Metadata entries are small (a join is ~100 bytes)
 * @param logEntryMaxBytes    the largest entry, and the most entries that travel in one append to
 *                            a follower. The log's write buffer is this plus 8 bytes of framing:
 *                            Ratis allocates it off-heap per server (8 MiB by default, which is why
 *                            it is shrunk here). The largest command, a {@code Finish} of every one
 *                            of 65 536 partitions, takes 256 KiB
 * @param maxVoters           3 or 5: how many members vote in the log once that many members with a
 *                            metadata address are active; every other such member follows it as a
 *                            listener. Five voters survive two failures instead of one, at the cost
 *                            of a larger majority for every commit
 * @param pollInterval        how often a member without a metadata address (which runs no log
 *                            server) asks the group for a newer state, and how often a member with
 *                            one checks whether its peers showed a newer epoch than its own
 */
public record MetadataSettings(Duration requestTimeout, Duration electionTimeoutMin, Duration electionTimeoutMax,
                               long snapshotEveryEntries, long logSegmentBytes, int logEntryMaxBytes, int maxVoters,
                               Duration pollInterval) {
    /** Enough for the largest command (a {@code Finish} of 65 536 partitions) with room to spare. */
    public static final int DEFAULT_LOG_ENTRY_MAX_BYTES = 512 << 10;
    public static final long DEFAULT_LOG_SEGMENT_BYTES = 1 << 20;

    public MetadataSettings {
        positive("requestTimeout", requestTimeout);
        positive("electionTimeoutMin", electionTimeoutMin);
        positive("electionTimeoutMax", electionTimeoutMax);
        positive("pollInterval", pollInterval);
        if (electionTimeoutMax.compareTo(electionTimeoutMin) <= 0) {
            throw new IllegalArgumentException("electionTimeoutMax " + electionTimeoutMax + " must exceed electionTimeoutMin " + electionTimeoutMin);
        }
        if (snapshotEveryEntries < 1) {
            throw new IllegalArgumentException("snapshotEveryEntries must be positive: " + snapshotEveryEntries);
        }
        // Ratis needs at least a few KiB per entry for its own framing; 1 GiB keeps the buffer an int.
        if (logEntryMaxBytes < 4096 || logEntryMaxBytes > (1 << 30)) {
            throw new IllegalArgumentException("logEntryMaxBytes must be between 4 KiB and 1 GiB: " + logEntryMaxBytes);
        }
        if (logSegmentBytes < logEntryMaxBytes) {
            throw new IllegalArgumentException("logSegmentBytes " + logSegmentBytes + " must hold the largest entry (" + logEntryMaxBytes + ")");
        }
        if (maxVoters != 3 && maxVoters != 5) {
            throw new IllegalArgumentException("maxVoters must be 3 or 5: " + maxVoters);
        }
    }

    private static void positive(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive: " + d);
        }
    }

    /**
     * For production: 5 s requests; elections after 1-2 s of silence; a snapshot every 1000
     * entries; 1 MiB segments; 512 KiB entries; 3 voters; members without a metadata address poll
     * every 200 ms.
     */
    public static MetadataSettings defaults() {
        return new MetadataSettings(Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofSeconds(2), 1000, DEFAULT_LOG_SEGMENT_BYTES,
                DEFAULT_LOG_ENTRY_MAX_BYTES, 3, Duration.ofMillis(200));
    }

    public MetadataSettings withRequestTimeout(Duration timeout) {
        return new MetadataSettings(timeout, electionTimeoutMin, electionTimeoutMax, snapshotEveryEntries, logSegmentBytes, logEntryMaxBytes,
                maxVoters, pollInterval);
    }

    public MetadataSettings withElectionTimeout(Duration min, Duration max) {
        return new MetadataSettings(requestTimeout, min, max, snapshotEveryEntries, logSegmentBytes, logEntryMaxBytes, maxVoters, pollInterval);
    }

    public MetadataSettings withSnapshotEveryEntries(long entries) {
        return new MetadataSettings(requestTimeout, electionTimeoutMin, electionTimeoutMax, entries, logSegmentBytes, logEntryMaxBytes, maxVoters,
                pollInterval);
    }

    public MetadataSettings withLogSizes(long segmentBytes, int entryMaxBytes) {
        return new MetadataSettings(requestTimeout, electionTimeoutMin, electionTimeoutMax, snapshotEveryEntries, segmentBytes, entryMaxBytes,
                maxVoters, pollInterval);
    }

    public MetadataSettings withMaxVoters(int voters) {
        return new MetadataSettings(requestTimeout, electionTimeoutMin, electionTimeoutMax, snapshotEveryEntries, logSegmentBytes, logEntryMaxBytes,
                voters, pollInterval);
    }

    public MetadataSettings withPollInterval(Duration interval) {
        return new MetadataSettings(requestTimeout, electionTimeoutMin, electionTimeoutMax, snapshotEveryEntries, logSegmentBytes, logEntryMaxBytes,
                maxVoters, interval);
    }
}
