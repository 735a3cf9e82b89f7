package io.cairn.request;

/**
 * The size limits every front end enforces (early, before buffering) and the core re-checks.
 *
 * @param maxKeyBytes        longest key, in UTF-8 bytes
 * @param maxValueBytes      largest value
 * @param maxBatchOperations most operations in one batch
 * @param maxBatchBodyBytes  largest batch request body
 * @param maxBatchReadBytes  most bytes of values a batch's reads return: a {@code get} whose value
 *                           would take the batch's reads past it, after other reads returned
 *                           something, answers {@code response_too_large} instead (the first value
 *                           a batch reads is always returned, so no lone read is refused)
 */
public record Limits(int maxKeyBytes, int maxValueBytes, int maxBatchOperations, int maxBatchBodyBytes, long maxBatchReadBytes) {
    public static final Limits DEFAULTS = new Limits(1024, 1 << 20, 1000, 16 << 20, 16L << 20);

    /** With the default batch read limit. */
    public Limits(int maxKeyBytes, int maxValueBytes, int maxBatchOperations, int maxBatchBodyBytes) {
        this(maxKeyBytes, maxValueBytes, maxBatchOperations, maxBatchBodyBytes, 16L << 20);
    }

    /**
     * What a batch's {@code get} answers, {@code found} being its value, after the batch's reads
     * already returned {@code readSoFar} bytes: {@code found} itself, or {@code response_too_large}
     * when it would take them past {@code maxBatchReadBytes} (never the first value).
     */
    public static OpResult withinReadBudget(OpResult found, long readSoFar, long maxBatchReadBytes) {
        if (!(found instanceof OpResult.Found f) || readSoFar == 0) {
            return found;
        }
        long size = f.record().tombstone() ? 0 : f.record().value().length;
        if (readSoFar + size <= maxBatchReadBytes) {
            return found;
        }
        return new OpResult.Failed(io.cairn.error.ErrorCode.RESPONSE_TOO_LARGE, "this batch's reads already return " + readSoFar
                + " bytes, and this value of " + size + " would pass limits.maxBatchReadBytes (" + maxBatchReadBytes
                + "); read it alone or in a smaller batch", java.util.Map.of("valueBytes", size, "limit", maxBatchReadBytes));
    }

    /** The bytes {@code result} adds to what a batch's reads return. */
    public static long readBytes(OpResult result) {
        return result instanceof OpResult.Found f && !f.record().tombstone() ? f.record().value().length : 0;
    }

    public Limits {
        if (maxKeyBytes < 1 || maxKeyBytes > 65_535) {
            throw new IllegalArgumentException("maxKeyBytes must be between 1 and 65535, got " + maxKeyBytes);
        }
        if (maxValueBytes < 0 || maxValueBytes > (512 << 20)) {
            throw new IllegalArgumentException("maxValueBytes must be between 0 and 512 MiB, got " + maxValueBytes);
        }
        if (maxBatchOperations < 1 || maxBatchOperations > 65_535) {
            throw new IllegalArgumentException("maxBatchOperations must be between 1 and 65535, got " + maxBatchOperations);
        }
        if (maxBatchBodyBytes < 1 || maxBatchBodyBytes > (1 << 30)) {
            throw new IllegalArgumentException("maxBatchBodyBytes must be between 1 and 1 GiB, got " + maxBatchBodyBytes);
        }
        if (maxBatchReadBytes < 1 || maxBatchReadBytes > (1L << 30)) {
            throw new IllegalArgumentException("maxBatchReadBytes must be between 1 and 1 GiB, got " + maxBatchReadBytes);
        }
    }
}
