package io.cairn.request;

/**
 * The size limits every front end enforces (early, before buffering) and the core re-checks.
 *
 * @param maxKeyBytes        longest key, in UTF-8 bytes
 * @param maxValueBytes      largest value
 * @param maxBatchOperations most operations in one batch
 * @param maxBatchBodyBytes  largest batch request body
 * @param maxBatchReadBytes  most bytes of values a batch's reads return ({@link BatchReadBudget})
 */
public record Limits(int maxKeyBytes, int maxValueBytes, int maxBatchOperations, int maxBatchBodyBytes, long maxBatchReadBytes) {
    public static final long DEFAULT_MAX_BATCH_READ_BYTES = 16L << 20;
    public static final Limits DEFAULTS = new Limits(1024, 1 << 20, 1000, 16 << 20, DEFAULT_MAX_BATCH_READ_BYTES);

    /** With the default batch read limit. */
    public Limits(int maxKeyBytes, int maxValueBytes, int maxBatchOperations, int maxBatchBodyBytes) {
        this(maxKeyBytes, maxValueBytes, maxBatchOperations, maxBatchBodyBytes, DEFAULT_MAX_BATCH_READ_BYTES);
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
