package io.cairn.namespace;

import io.cairn.placement.Partitioner;
import io.cairn.placement.Quorum;
import java.util.regex.Pattern;

/**
 * A group of keys of one data class and the policy they share: id on disk, partition count,
 * default TTL, consistency class, default read and write quorums and value limit. User namespaces
 * are defined by a {@link NamespaceSpec}; the default and the system namespaces are built here.
 *
 * <p>{@code strictQuorum}: writes never count a fallback's acknowledgement (no sloppy quorum,
 * whatever the cluster's setting), so R + W > N always means a read sees an acknowledged write.
 * System namespaces whose promises rest on that (the tokens, whose revocation must be seen) are
 * strict, and so is every serial namespace.
 *
 * @param defaultRead    the read quorum of a request that names none; null: the cluster's
 * @param defaultWrite   the write quorum of a request that names none; null: the cluster's
 * @param maxValueBytes  the largest value a put may store; 0: the node's limit alone
 */
public record Namespace(int id, String name, Partitioner partitioner, long defaultTtlMillis, boolean strictQuorum, Consistency consistency,
                        Quorum defaultRead, Quorum defaultWrite, long maxValueBytes) {
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
        if (maxValueBytes < 0) {
            throw new IllegalArgumentException("the value limit must not be negative");
        }
        java.util.Objects.requireNonNull(consistency, "consistency");
    }

    public Namespace(int id, String name, Partitioner partitioner, long defaultTtlMillis, boolean strictQuorum) {
        this(id, name, partitioner, defaultTtlMillis, strictQuorum, Consistency.QUORUM, null, null, 0);
    }

    public Namespace(int id, String name, Partitioner partitioner, long defaultTtlMillis) {
        this(id, name, partitioner, defaultTtlMillis, false);
    }

    public static Namespace defaults(long defaultTtlMillis) {
        return new Namespace(DEFAULT_ID, DEFAULT_NAME, new Partitioner(DEFAULT_PARTITIONS), defaultTtlMillis);
    }

    /** Whether the name is a valid namespace name. */
    public static boolean validName(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    public static String namePattern() {
        return NAME.pattern();
    }

    public int partitionOf(byte[] key) {
        return partitioner.partitionOf(key);
    }

    /** Why a value of {@code valueBytes} cannot be stored in this namespace (over its value limit), or null. */
    public String valueRefusal(long valueBytes) {
        if (maxValueBytes == 0 || valueBytes <= maxValueBytes) {
            return null;
        }
        return "the value is " + valueBytes + " bytes; namespace " + name + " keeps values up to " + maxValueBytes + " bytes";
    }

    /** Whether every read and write of this namespace is a Paxos round (the serial class). */
    public boolean serial() {
        return consistency == Consistency.SERIAL;
    }

    /** The read quorum of a request that asked for {@code asked} (null: none) on a cluster whose default is {@code cluster}. */
    public Quorum readQuorum(Quorum asked, Quorum cluster) {
        return asked != null ? asked : defaultRead != null ? defaultRead : cluster;
    }

    /** As {@link #readQuorum}, for writes. */
    public Quorum writeQuorum(Quorum asked, Quorum cluster) {
        return asked != null ? asked : defaultWrite != null ? defaultWrite : cluster;
    }
}
