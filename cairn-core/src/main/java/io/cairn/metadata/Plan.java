package io.cairn.metadata;

import java.util.Objects;

/**
 * The membership change in progress: at most one at a time.
 *
 * @param id          the epoch it started in; moves name it so a report for an earlier plan is ignored
 * @param kind        what started it
 * @param subject     the node joining, leaving, removed or replaced
 * @param replacement the node taking over (a replace), else 0
 * @param paused      no new partition starts moving while set (moves already streaming finish)
 * @param cancelled   partitions not yet serving from their new replicas went back; the rest finish
 */
public record Plan(long id, Kind kind, int subject, int replacement, boolean paused, boolean cancelled) {
    public enum Kind { JOIN, DECOMMISSION, REMOVE, REPLACE }

    public Plan {
        Objects.requireNonNull(kind, "kind");
        if (id < 1) {
            throw new IllegalArgumentException("plan id " + id);
        }
    }

    Plan paused(boolean p) {
        return new Plan(id, kind, subject, replacement, p, cancelled);
    }

    Plan cancel() {
        return new Plan(id, kind, subject, replacement, paused, true);
    }
}
