package io.cairn.metadata;

import java.util.Arrays;

/**
 * One partition's assignment in the metadata log; see {@code PartitionMap.Slot}, which is what
 * nodes route by.
 *
 * @param owners        the replicas that own the partition
 * @param next          the replica set it is moving to, or null when stable
 * @param readsNext     the incoming replicas hold the partition: reads go to {@code next}
 * @param streamed      incoming replicas that reported they hold the partition
 * @param since         epoch this assignment took effect
 * @param previousSince epoch the assignment before it took effect
 */
public record Assignment(int[] owners, int[] next, boolean readsNext, int[] streamed, long since, long previousSince) {
    public Assignment {
        owners = owners.clone();
        next = next == null ? null : next.clone();
        streamed = streamed.clone();
        if (readsNext && next == null) {
            throw new IllegalArgumentException("reads from the next set of a partition that is not moving");
        }
        if (previousSince < 1 || previousSince > since) {
            throw new IllegalArgumentException("assignment epochs " + previousSince + " then " + since);
        }
    }

    static Assignment stable(int[] owners, long since, long previousSince) {
        return new Assignment(owners, null, false, new int[0], since, previousSince);
    }

    public boolean moving() {
        return next != null;
    }

    /** Members of {@code next} that are not owners: the replicas that must receive the partition. */
    public int[] incoming() {
        return next == null ? new int[0] : incomingTo(next);
    }

    /** Whether incoming replica {@code node} has the partition streamed in: it reported so, or reads come from the next set already. */
    public boolean streamedIn(int node) {
        return readsNext || contains(streamed, node);
    }

    /** Members of {@code target} that are not owners: the replicas that would have to receive the partition to move it there. */
    public int[] incomingTo(int[] target) {
        return Arrays.stream(target).filter(n -> !contains(owners, n)).toArray();
    }

    /** The replicas that hold the partition's data now: the next set once it serves reads, else the owners. */
    int[] base() {
        return readsNext ? next.clone() : owners.clone();
    }

    boolean involves(int node) {
        return contains(owners, node) || (next != null && contains(next, node));
    }

    static boolean contains(int[] a, int v) {
        for (int x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    static boolean sameSet(int[] a, int[] b) {
        int[] x = a.clone();
        int[] y = b.clone();
        Arrays.sort(x);
        Arrays.sort(y);
        return Arrays.equals(x, y);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Assignment a && Arrays.equals(owners, a.owners) && Arrays.equals(next, a.next) && readsNext == a.readsNext
                && Arrays.equals(streamed, a.streamed) && since == a.since && previousSince == a.previousSince;
    }

    @Override
    public int hashCode() {
        return (Arrays.hashCode(owners) * 31 + Arrays.hashCode(next)) * 31 + Long.hashCode(since);
    }

    @Override
    public String toString() {
        return "Assignment[owners=" + Arrays.toString(owners) + ", next=" + Arrays.toString(next) + ", readsNext=" + readsNext
                + ", streamed=" + Arrays.toString(streamed) + ", since=" + since + ", previousSince=" + previousSince + "]";
    }
}
