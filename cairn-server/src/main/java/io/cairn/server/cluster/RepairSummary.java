package io.cairn.server.cluster;

import io.cairn.cluster.ExchangeStatus;
import java.util.List;

/**
 * The repair backlog of a node as one set of numbers: over its partitions (each namespace's, on
 * this node, against every other replica), what the last anti-entropy rounds found still to
 * repair, and the exchanges' counters since start.
 *
 * @param partitionsNeverExchanged partitions some pair of which has not completed a round since start
 * @param oldestExchangeAgeMillis  the longest any partition has gone without a completed round (0 when none has one yet)
 */
public record RepairSummary(ExchangeStatus.Totals totals, int partitions, int partitionsDiffering, int partitionsNeverExchanged,
                            long differingSegments, long differingKeys, long bytesToRepair, long oldestExchangeAgeMillis,
                            int repairsQueued) {
    public static final RepairSummary NONE = new RepairSummary(ExchangeStatus.Totals.ZERO, 0, 0, 0, 0, 0, 0, 0, 0);

    static RepairSummary of(List<ExchangeStatus.Partition> partitions, ExchangeStatus.Totals totals, int queued) {
        int differing = 0;
        int never = 0;
        long segments = 0;
        long keys = 0;
        long bytes = 0;
        long oldest = 0;
        for (ExchangeStatus.Partition p : partitions) {
            if (p.differingSegments() > 0 || p.differingKeys() > 0) {
                differing++;
            }
            if (p.sinceLastExchangeMillis() < 0) {
                never++;
            } else {
                oldest = Math.max(oldest, p.sinceLastExchangeMillis());
            }
            segments += p.differingSegments();
            keys += p.differingKeys();
            bytes += p.bytesToRepair();
        }
        return new RepairSummary(totals, partitions.size(), differing, never, segments, keys, bytes, oldest, queued);
    }

    RepairSummary plus(RepairSummary o) {
        return new RepairSummary(totals.plus(o.totals), partitions + o.partitions, partitionsDiffering + o.partitionsDiffering,
                partitionsNeverExchanged + o.partitionsNeverExchanged, differingSegments + o.differingSegments, differingKeys + o.differingKeys,
                bytesToRepair + o.bytesToRepair, Math.max(oldestExchangeAgeMillis, o.oldestExchangeAgeMillis), repairsQueued + o.repairsQueued);
    }

    /**
     * An estimate of the time to full convergence: nothing known to differ and every partition
     * exchanged is 0; otherwise the bytes still to move at the repair budget, plus one exchange
     * cycle to find what the last rounds could not reach.
     */
    public long etaMillis(long maxBytesPerSecond, long cycleMillis) {
        if (differingKeys == 0 && differingSegments == 0 && partitionsNeverExchanged == 0) {
            return 0;
        }
        return bytesToRepair * 1000 / Math.max(1, maxBytesPerSecond) + cycleMillis;
    }
}
