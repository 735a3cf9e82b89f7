package io.cairn.placement;

import java.util.Arrays;
import java.util.List;

/**
 * Which nodes hold each partition, at one epoch. A partition is either <b>stable</b> (its owners
 * take every read and write) or <b>moving</b> (see {@code docs/architecture.md}, "Moving
 * partitions"): it then has owners and a next replica set, writes must reach a quorum of
 * <em>each</em> (joint quorums), and reads go to the owners until the incoming replicas hold the
 * partition, then to the next set. Every partition also has a preference list: its read replicas
 * first, then the other write targets, then every other node as a fallback for hints.
 *
 * <p>Each partition records the epoch its assignment last changed ({@link #since}) and the one
 * before ({@link #previousSince}). Moves advance one step at a time, and a step is taken only once
 * every member applied the previous one, so a request stamped with any epoch from
 * {@code previousSince} on was routed by this step or the one before, whose quorums intersect this
 * step's; a request from before that is refused (see {@code ClusterNode}).
 */
public final class PartitionMap {
    private final long epoch;
    private final int replicationFactor;
    private final Slot[] slots;

    /**
     * One partition's assignment.
     *
     * @param owners        the replicas that own the partition (at most N; fewer while a removed node's place is refilled)
     * @param next          the replica set it moves to, or null when stable
     * @param readsNext     reads go to {@code next} (the incoming replicas hold the partition)
     * @param streamed      incoming replicas that reported they hold the partition
     * @param since         epoch this assignment took effect
     * @param previousSince epoch the assignment before it took effect
     * @param preferences   every member once: read replicas, other write targets, then fallbacks
     */
    public record Slot(int[] owners, int[] next, boolean readsNext, int[] streamed, long since, long previousSince, int[] preferences) {
        public Slot {
            owners = owners.clone();
            streamed = streamed.clone();
            next = next == null ? null : next.clone();
            preferences = preferences.clone();
            if (owners.length == 0 && (next == null || next.length == 0)) {
                throw new IllegalArgumentException("a partition without replicas");
            }
            if (readsNext && next == null) {
                throw new IllegalArgumentException("reads from the next replica set of a partition that is not moving");
            }
            if (previousSince > since || previousSince < 1) {
                throw new IllegalArgumentException("assignment epochs " + previousSince + " then " + since);
            }
        }

        public boolean moving() {
            return next != null;
        }

        public int[] readers() {
            return readsNext ? next.clone() : owners.clone();
        }

        /** Every node a write must reach: owners, then the next set's newcomers. */
        public int[] writeTargets() {
            // On every request's path: a few ids, so a linear scan rather than a set.
            int[] all = new int[owners.length + (next == null ? 0 : next.length)];
            int n = 0;
            for (int id : owners) {
                n = addOnce(all, n, id);
            }
            if (next != null) {
                for (int id : next) {
                    n = addOnce(all, n, id);
                }
            }
            return n == all.length ? all : Arrays.copyOf(all, n);
        }

        private static int addOnce(int[] ids, int count, int id) {
            for (int i = 0; i < count; i++) {
                if (ids[i] == id) {
                    return count;
                }
            }
            ids[count] = id;
            return count + 1;
        }

        /** The replica sets that must each acknowledge a write: the owners, and the next set while moving. */
        public int[][] writeGroups() {
            return next == null ? new int[][] {owners.clone()} : new int[][] {owners.clone(), next.clone()};
        }

        /** The next set's members that are not owners yet. */
        public int[] incoming() {
            return next == null ? new int[0] : Arrays.stream(next).filter(n -> !contains(owners, n)).toArray();
        }

        /** The owners that are not in the next set. */
        public int[] outgoing() {
            return next == null ? new int[0] : Arrays.stream(owners).filter(n -> !contains(next, n)).toArray();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Slot s && Arrays.equals(owners, s.owners) && Arrays.equals(next, s.next) && readsNext == s.readsNext
                    && Arrays.equals(streamed, s.streamed) && since == s.since && previousSince == s.previousSince && Arrays.equals(preferences, s.preferences);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(owners) * 31 + Arrays.hashCode(next) + Long.hashCode(since);
        }

        @Override
        public String toString() {
            return "Slot[owners=" + Arrays.toString(owners) + ", next=" + Arrays.toString(next) + ", readsNext=" + readsNext
                    + ", since=" + since + ", previousSince=" + previousSince + "]";
        }
    }

    public PartitionMap(long epoch, int replicationFactor, List<Slot> slots) {
        if (replicationFactor < 1) {
            throw new IllegalArgumentException("replication factor must be at least 1");
        }
        this.epoch = epoch;
        this.replicationFactor = replicationFactor;
        this.slots = slots.toArray(Slot[]::new);
        for (Slot s : this.slots) {
            if (s.since() > epoch) {
                throw new IllegalArgumentException("an assignment from epoch " + s.since() + " in a map of epoch " + epoch);
            }
        }
    }

    /** A map where every partition is stable, owned by the first N of its preference list since epoch 1. */
    static PartitionMap stable(long epoch, int replicationFactor, int[][] preferences) {
        Slot[] slots = new Slot[preferences.length];
        for (int p = 0; p < preferences.length; p++) {
            slots[p] = new Slot(Arrays.copyOf(preferences[p], replicationFactor), null, false, new int[0], 1, 1, preferences[p]);
        }
        return new PartitionMap(epoch, replicationFactor, List.of(slots));
    }

    public long epoch() {
        return epoch;
    }

    public int partitions() {
        return slots.length;
    }

    /** N: how many replicas each partition has when it is stable (at most the member count). */
    public int replicationFactor() {
        return replicationFactor;
    }

    public Slot slot(int partition) {
        return slots[partition];
    }

    /** The replicas that serve reads of a partition, in preference order. */
    public int[] replicas(int partition) {
        return slots[partition].readers();
    }

    /** The replica sets that must each acknowledge a write of a partition. */
    public int[][] writeGroups(int partition) {
        return slots[partition].writeGroups();
    }

    /** Every node a write of a partition is sent to. */
    public int[] writeTargets(int partition) {
        return slots[partition].writeTargets();
    }

    /** The full preference list: read replicas, other write targets, then fallbacks. */
    public int[] preferenceList(int partition) {
        return slots[partition].preferences();
    }

    /** Whether {@code nodeId} serves reads of the partition. */
    public boolean isReplica(int partition, int nodeId) {
        return contains(slots[partition].readers(), nodeId);
    }

    /** Whether writes of the partition go to {@code nodeId} (an owner, or a replica it is moving to). */
    public boolean takesWrites(int partition, int nodeId) {
        return contains(slots[partition].writeTargets(), nodeId);
    }

    public long since(int partition) {
        return slots[partition].since();
    }

    public long previousSince(int partition) {
        return slots[partition].previousSince();
    }

    /** Whether any partition is moving. */
    public boolean moving() {
        return Arrays.stream(slots).anyMatch(Slot::moving);
    }

    /** How many partitions each node serves reads of, indexed like {@code nodes}. */
    public int[] replicaCounts(List<Integer> nodes) {
        int[] counts = new int[nodes.size()];
        for (Slot s : slots) {
            for (int id : s.readers()) {
                int i = nodes.indexOf(id);
                if (i >= 0) {
                    counts[i]++;
                }
            }
        }
        return counts;
    }

    /**
     * Which partitions a majority quorum could no longer serve, at this epoch, were the nodes
     * {@code lost} names gone: the operator's what-if, and a node's own readiness (lost = the
     * members its failure detector counts down). Lists hold partition numbers in order.
     *
     * @param noQuorumReads  fewer than a read quorum (a majority unless asked otherwise) of the read replicas left
     * @param noQuorumWrites some write group (both sets while it moves) with fewer than a write quorum left
     * @param underReplicated fewer than N read replicas left
     * @param noReplicaLeft  no read replica left
     */
    public record Availability(List<Integer> noQuorumReads, List<Integer> noQuorumWrites, List<Integer> underReplicated,
                               List<Integer> noReplicaLeft) {
        public Availability {
            noQuorumReads = List.copyOf(noQuorumReads);
            noQuorumWrites = List.copyOf(noQuorumWrites);
            underReplicated = List.copyOf(underReplicated);
            noReplicaLeft = List.copyOf(noReplicaLeft);
        }
    }

    /** See {@link Availability}: for majority reads and writes. */
    public Availability availabilityWithout(java.util.function.IntPredicate lost) {
        return availabilityWithout(lost, Quorum.MAJORITY, Quorum.MAJORITY);
    }

    /**
     * See {@link Availability}, with {@code noQuorumReads} / {@code noQuorumWrites} for reads at
     * {@code read} and writes at {@code write} (of N; a set smaller than that needs all of it).
     */
    public Availability availabilityWithout(java.util.function.IntPredicate lost, Quorum read, Quorum write) {
        int readQuorum = read.resolve(replicationFactor);
        int writeQuorum = write.resolve(replicationFactor);
        List<Integer> noReads = new java.util.ArrayList<>();
        List<Integer> noWrites = new java.util.ArrayList<>();
        List<Integer> under = new java.util.ArrayList<>();
        List<Integer> none = new java.util.ArrayList<>();
        for (int p = 0; p < slots.length; p++) {
            int[] readers = slots[p].readers();
            int left = left(readers, lost);
            if (left < Math.min(readQuorum, readers.length)) {
                noReads.add(p);
            }
            if (left < replicationFactor) {
                under.add(p);
            }
            if (left == 0) {
                none.add(p);
            }
            for (int[] group : slots[p].writeGroups()) {
                if (left(group, lost) < Math.min(writeQuorum, group.length)) {
                    noWrites.add(p);
                    break;
                }
            }
        }
        return new Availability(noReads, noWrites, under, none);
    }

    private static int left(int[] replicas, java.util.function.IntPredicate lost) {
        int left = 0;
        for (int r : replicas) {
            if (!lost.test(r)) {
                left++;
            }
        }
        return left;
    }

    static boolean contains(int[] a, int v) {
        for (int x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }
}
