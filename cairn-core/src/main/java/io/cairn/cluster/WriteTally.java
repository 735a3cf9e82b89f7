package io.cairn.cluster;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Counts the replies to one replicated write and decides, as pure logic, when it is settled: it
 * never sends, waits or retries itself.
 *
 * <p>A write goes to one replica set, or, while its partition moves, to two (the owners and the
 * next set: joint quorums). It succeeds once every set has {@code required} acknowledgements of a
 * durable store (or all of its members, for a set smaller than that); it fails once so many
 * replicas refused that some set can no longer get there. Until then it is pending. Only
 * acknowledged replicas count; a reply from a node outside the sets, or a duplicate reply,
 * changes nothing (the network may duplicate messages).
 */
final class WriteTally {
    public enum Decision { PENDING, ACKNOWLEDGED, FAILED }

    private final List<Set<Integer>> groups;
    private final Set<Integer> replicas = new LinkedHashSet<>();
    private final int required;
    private final Set<Integer> acked = new LinkedHashSet<>();
    private final Set<Integer> refused = new LinkedHashSet<>();

    public WriteTally(Set<Integer> replicas, int required) {
        this(List.of(replicas), required);
    }

    public WriteTally(List<Set<Integer>> groups, int required) {
        if (groups.isEmpty() || groups.stream().anyMatch(Set::isEmpty)) {
            throw new IllegalArgumentException("a write needs at least one non-empty replica set");
        }
        if (required < 1 || groups.size() == 1 && required > groups.get(0).size()) {
            throw new IllegalArgumentException("required " + required + " of " + groups.get(0).size() + " replicas");
        }
        List<Set<Integer>> copies = new ArrayList<>(groups.size());
        for (Set<Integer> g : groups) {
            copies.add(Set.copyOf(g));
            replicas.addAll(g);
        }
        this.groups = List.copyOf(copies);
        this.required = required;
    }

    public Decision ack(int node) {
        if (replicas.contains(node) && !refused.contains(node)) {
            acked.add(node);
        }
        return decision();
    }

    /** The replica answered that it could not store the write (or is known unreachable). */
    public Decision refuse(int node) {
        if (replicas.contains(node) && !acked.contains(node)) {
            refused.add(node);
        }
        return decision();
    }

    public Decision decision() {
        boolean all = true;
        for (Set<Integer> g : groups) {
            int need = Math.min(required, g.size());
            int acks = (int) g.stream().filter(acked::contains).count();
            int refusals = (int) g.stream().filter(refused::contains).count();
            if (g.size() - refusals < need) {
                return Decision.FAILED;
            }
            all &= acks >= need;
        }
        return all ? Decision.ACKNOWLEDGED : Decision.PENDING;
    }

    public int acks() {
        return acked.size();
    }

    public Set<Integer> acked() {
        return Set.copyOf(acked);
    }

    /** Replicas that neither acknowledged nor refused yet: candidates for hints. */
    public Set<Integer> unanswered() {
        Set<Integer> s = new LinkedHashSet<>(replicas);
        s.removeAll(acked);
        s.removeAll(refused);
        return s;
    }

    /**
     * What is missing, for an answer: "2 of the required 2" for one replica set; for a moving
     * partition, each set's count (a write needs every set's quorum, and the sets share replicas).
     */
    public String shortfall() {
        if (groups.size() == 1) {
            return acks() + " of the required " + Math.min(required, groups.get(0).size());
        }
        StringBuilder b = new StringBuilder();
        for (Set<Integer> g : groups) {
            int acks = (int) g.stream().filter(acked::contains).count();
            b.append(b.isEmpty() ? "" : ", ").append(b.isEmpty() ? "the owners " : "the incoming set ").append(new java.util.TreeSet<>(g))
                    .append(": ").append(acks).append(" of the required ").append(Math.min(required, g.size()));
        }
        return b.toString();
    }

    /** Acknowledgements a replica set of full size needs. */
    public int required() {
        return required;
    }
}
