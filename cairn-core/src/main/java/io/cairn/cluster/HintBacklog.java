package io.cairn.cluster;

/** The hints a node holds for one target: how many, their bytes, and when the oldest was stored (0 when none). */
public record HintBacklog(long count, long bytes, long oldestMillis) {
    /** Two backlogs for one target (two shards' hints) as one. */
    public HintBacklog plus(HintBacklog other) {
        long oldest = count == 0 ? other.oldestMillis : other.count == 0 ? oldestMillis : Math.min(oldestMillis, other.oldestMillis);
        return new HintBacklog(count + other.count, bytes + other.bytes, oldest);
    }
}
