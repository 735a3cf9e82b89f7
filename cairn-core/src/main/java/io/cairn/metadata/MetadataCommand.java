package io.cairn.metadata;

import io.cairn.membership.Member;
import java.util.Objects;

/**
 * One entry of the metadata log: a change an operator or a moving partition asks for. Applying it
 * ({@link ClusterMetadata#apply}) is deterministic; every one is idempotent (applying it twice
 * changes nothing the second time), so a client may retry one whose outcome it did not learn.
 */
public sealed interface MetadataCommand {
    /** Registers {@code member}; partitions move to it until the cluster is balanced. */
    record Join(Member member) implements MetadataCommand {
        public Join {
            Objects.requireNonNull(member, "member");
        }
    }

    /** Moves every partition off a live node, which then leaves. */
    record Decommission(int node, boolean allowZoneLoss) implements MetadataCommand {}

    /** A dead node leaves at once; its partitions are re-replicated from the surviving replicas. */
    record Remove(int node, boolean allowZoneLoss) implements MetadataCommand {}

    /** A dead node leaves; {@code replacement}, a new node, takes over exactly its partitions. */
    record Replace(int node, Member replacement, boolean allowZoneLoss) implements MetadataCommand {
        public Replace {
            Objects.requireNonNull(replacement, "replacement");
        }
    }

    /**
     * Incoming replica {@code node} holds {@code partition} of plan {@code plan}. Logs written before
     * {@link StreamsDone} hold these; nodes now report {@link StreamsDone}.
     */
    record StreamDone(long plan, int partition, int node) implements MetadataCommand {}

    /** Incoming replica {@code node} holds these partitions of plan {@code plan}: one entry, one epoch, for all of them. */
    record StreamsDone(long plan, int node, int[] partitions) implements MetadataCommand {
        public StreamsDone {
            partitions = partitions.clone();
        }

        @Override
        public int[] partitions() {
            return partitions.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof StreamsDone d && d.plan == plan && d.node == node && java.util.Arrays.equals(d.partitions, partitions);
        }

        @Override
        public int hashCode() {
            return (Long.hashCode(plan) * 31 + node) * 31 + java.util.Arrays.hashCode(partitions);
        }

        @Override
        public String toString() {
            return "StreamsDone[plan=" + plan + ", node=" + node + ", partitions=" + java.util.Arrays.toString(partitions) + "]";
        }
    }

    /** These partitions of plan {@code plan}, serving from their new replicas, are owned by them now. */
    record Finish(long plan, int[] partitions) implements MetadataCommand {
        public Finish {
            partitions = partitions.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Finish f && f.plan == plan && java.util.Arrays.equals(f.partitions, partitions);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(plan) * 31 + java.util.Arrays.hashCode(partitions);
        }

        @Override
        public String toString() {
            return "Finish[plan=" + plan + ", partitions=" + java.util.Arrays.toString(partitions) + "]";
        }
    }

    /** Pauses or resumes the running plan. */
    record Pause(boolean paused) implements MetadataCommand {}

    /** Cancels the running plan: partitions not yet serving from their new replicas go back. */
    record Cancel() implements MetadataCommand {}

    /**
     * Creates namespace {@code spec} or changes its policy; refused beyond {@code maxNamespaces}
     * (the asking node's {@code limits.maxNamespaces}, carried in the entry so every replica of the log
     * decides alike).
     */
    record PutNamespace(io.cairn.namespace.NamespaceSpec spec, int maxNamespaces) implements MetadataCommand {
        public PutNamespace {
            Objects.requireNonNull(spec, "spec");
        }
    }

    /**
     * Records the settings every member must share (canonical values by name;
     * {@link ClusterMetadata#settingsProblem}). With {@code first}, the cluster's first record: a
     * starting member offers its own, and the first offer the log applies is the cluster's (later
     * ones change nothing). Without, an operator's change of some of them, merged into the record.
     */
    record SetSettings(java.util.SortedMap<String, String> settings, boolean first) implements MetadataCommand {
        public SetSettings {
            settings = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(settings));
        }
    }
}
