package io.cairn.namespace;

import io.cairn.placement.Partitioner;
import io.cairn.placement.Quorum;
import java.util.Objects;
import java.util.Set;

/**
 * A user namespace as an operator defines it ({@code PUT /admin/namespaces/{name}}) and as the
 * cluster's metadata log (or a single node's storage) keeps it. {@link #problem} is the one place
 * its guardrails live: the metadata state machine and the single node both apply them.
 *
 * @param id              its id on disk: 0 in a request (the log assigns one), never changed after
 * @param readQuorum      the default read quorum, or null for the cluster's
 * @param writeQuorum     the default write quorum, or null for the cluster's
 * @param defaultTtlMillis the TTL of a put that names none (0: none)
 * @param maxValueBytes   the largest value a put may store (0: the node's limit alone)
 */
public record NamespaceSpec(int id, String name, Consistency consistency, Quorum readQuorum, Quorum writeQuorum, long defaultTtlMillis,
                            long maxValueBytes) {
    /** The first id a user namespace gets; the ones below are the default and the system namespaces'. */
    public static final int FIRST_USER_ID = 16;
    /** Names a user namespace cannot take: the default namespace's and the system namespaces'. */
    public static final Set<String> RESERVED = Set.of(Namespace.DEFAULT_NAME, "idempotency", "tokens", "auth", "system", "paxos", "admin");

    public NamespaceSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(consistency, "consistency");
    }

    /**
     * Why this definition cannot be kept on a cluster of replication factor {@code n} (a single
     * node: 1), or null when it can: a bad name, a negative TTL or limit, a quorum the cluster
     * cannot meet, or a serial namespace whose defaults ask for fewer than a majority (its reads
     * and writes are Paxos rounds on a majority whatever they ask, so a weaker default would be a
     * promise it does not keep).
     */
    public String problem(int n) {
        if (!Namespace.validName(name)) {
            return "a namespace name must match " + Namespace.namePattern() + ", got '" + name + "'";
        }
        if (RESERVED.contains(name)) {
            return "the name '" + name + "' is reserved";
        }
        return policyProblem(n);
    }

    /**
     * Why this definition cannot be the default namespace's policy on a cluster of replication
     * factor {@code n}, or null when it can: it must name the default namespace and be a
     * {@code quorum} one (the default namespace's class is fixed: it holds what clients wrote
     * without choosing one; linearizable data goes in a serial namespace of its own), and pass the
     * rules every namespace's policy passes.
     */
    public String problemAsDefault(int n) {
        if (!name.equals(Namespace.DEFAULT_NAME)) {
            return "not the default namespace: '" + name + "'";
        }
        if (consistency != Consistency.QUORUM) {
            return "the default namespace is a quorum namespace; create a namespace of its own for " + consistency.label()
                    + " data (PUT /admin/namespaces/{name})";
        }
        return policyProblem(n);
    }

    private String policyProblem(int n) {
        if (defaultTtlMillis < 0) {
            return "defaultTtl must not be negative";
        }
        if (maxValueBytes < 0) {
            return "maxValueBytes must not be negative";
        }
        for (Quorum q : new Quorum[] {readQuorum, writeQuorum}) {
            if (q == null) {
                continue;
            }
            String which = q == readQuorum ? "readQuorum" : "writeQuorum";
            int needed;
            try {
                needed = q.resolve(n);
            } catch (IllegalArgumentException e) {
                return which + "=" + q + ": " + e.getMessage();
            }
            if (consistency == Consistency.SERIAL && needed < n / 2 + 1) {
                return "a serial namespace reads and writes through a majority of " + n + " replicas; " + which + "=" + q
                        + " would ask for " + needed + " (leave it out, or use quorum or all)";
            }
        }
        return null;
    }

    /** The default namespace's policy as the metadata log keeps it: this definition under the default namespace's id. */
    public NamespaceSpec asDefault() {
        return withId(Namespace.DEFAULT_ID);
    }

    /** The same definition under id {@code assigned}. */
    public NamespaceSpec withId(int assigned) {
        return new NamespaceSpec(assigned, name, consistency, readQuorum, writeQuorum, defaultTtlMillis, maxValueBytes);
    }

    /**
     * The namespace nodes route by. It has the cluster's partition count, so moves, hinted
     * hand-off and anti-entropy treat it as they treat the default namespace; a serial namespace
     * never counts a fallback's acknowledgement.
     */
    public Namespace toNamespace(int partitions) {
        return new Namespace(id, name, new Partitioner(partitions), defaultTtlMillis, consistency == Consistency.SERIAL, consistency,
                readQuorum, writeQuorum, maxValueBytes);
    }
}
