package io.cairn.namespace;

import io.cairn.placement.Partitioner;
import java.util.regex.Pattern;

/**
 * A group of keys of one data class and the policy they share: id on disk, partition count and
 * default TTL. Replication policy (N, R, W, mode) joins it when the cluster does.
 *
 * <p>{@code strictQuorum}: writes never count a fallback's acknowledgement (no sloppy quorum,
 * whatever the cluster's setting), so R + W > N always means a read sees an acknowledged write.
 * System namespaces whose promises rest on that (the tokens, whose revocation must be seen) are
 * strict.
 */
public record Namespace(int id, String name, Partitioner partitioner, long defaultTtlMillis, boolean strictQuorum) {
    public static final String DEFAULT_NAME = "default";
    public static final int DEFAULT_ID = 1;
    public static final int DEFAULT_PARTITIONS = 256;
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]{0,62}");

    public Namespace {
        if (id <= 0) {
            throw new IllegalArgumentException("namespace id must be positive, got " + id);
        }
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("namespace name must match " + NAME + ", got '" + name + "'");
        }
        if (defaultTtlMillis < 0) {
            throw new IllegalArgumentException("default TTL must not be negative");
        }
    }

    public Namespace(int id, String name, Partitioner partitioner, long defaultTtlMillis) {
        this(id, name, partitioner, defaultTtlMillis, false);
    }

    public static Namespace defaults(long defaultTtlMillis) {
        return new Namespace(DEFAULT_ID, DEFAULT_NAME, new Partitioner(DEFAULT_PARTITIONS), defaultTtlMillis);
    }

    public int partitionOf(byte[] key) {
        return partitioner.partitionOf(key);
    }
}
