package io.cairn.request;

import io.cairn.error.ErrorCode;
import java.util.Map;

/**
 * What one batch's reads have returned so far, against {@code limits.maxBatchReadBytes}
 * ({@link Limits#maxBatchReadBytes}): each {@code get}'s answer passes through {@link #admit},
 * in the order the batch takes them, and a value that would take the batch past the limit is
 * answered {@code response_too_large} instead. The first value is always admitted, so no lone
 * read is refused. One per batch; not thread-safe.
 */
public final class BatchReadBudget {
    private final long maxBytes;
    private long read;

    public BatchReadBudget(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** {@code answer} itself, counted, or {@code response_too_large} when its value does not fit. */
    public OpResult admit(OpResult answer) {
        if (!(answer instanceof OpResult.Found f)) {
            return answer;
        }
        long size = f.record().tombstone() ? 0 : f.record().value().length;
        if (read > 0 && read + size > maxBytes) {
            return new OpResult.Failed(ErrorCode.RESPONSE_TOO_LARGE, "this batch's reads already return " + read
                    + " bytes, and this value of " + size + " would pass limits.maxBatchReadBytes (" + maxBytes
                    + "); read it alone or in a smaller batch", Map.of("valueBytes", size, "limit", maxBytes));
        }
        read += size;
        return answer;
    }
}
