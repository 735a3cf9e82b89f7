package io.cairn.cluster;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Counts the replies to one replicated write and decides, as pure logic, when it is settled: it
 * never sends, waits or retries itself.
 *
 * <p>A write succeeds once {@code required} replicas acknowledged a durable store; it fails once
 * so many replicas refused that {@code required} can no longer be reached. Until then it is
 * pending. Only acknowledged replicas count; a reply from a node outside the replica set, or a
 * duplicate reply, changes nothing (the network may duplicate messages).
 */
final class WriteTally {
    public enum Decision { PENDING, ACKNOWLEDGED, FAILED }

    private final Set<Integer> replicas;
    private final int required;
    private final Set<Integer> acked = new LinkedHashSet<>();
    private final Set<Integer> refused = new LinkedHashSet<>();

    public WriteTally(Set<Integer> replicas, int required) {
        if (required < 1 || required > replicas.size()) {
            throw new IllegalArgumentException("required " + required + " of " + replicas.size() + " replicas");
        }
        this.replicas = Set.copyOf(replicas);
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
        if (acked.size() >= required) {
            return Decision.ACKNOWLEDGED;
        }
        if (replicas.size() - refused.size() < required) {
            return Decision.FAILED;
        }
        return Decision.PENDING;
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

    public int required() {
        return required;
    }
}
