package io.cairn.antientropy;

import java.util.List;

/**
 * A replica's records in some segments of a partition, in key order; {@code truncated} when the
 * listing stopped at its byte bound (the exchange then reconciles what it got and comes back).
 */
public record SegmentKeys(List<KeyVersion> keys, boolean truncated) {
    public SegmentKeys {
        keys = List.copyOf(keys);
    }
}
