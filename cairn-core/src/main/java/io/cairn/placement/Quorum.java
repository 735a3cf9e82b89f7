package io.cairn.placement;

import java.util.Locale;

/**
 * A read or write quorum as a client names it — {@code one}, {@code quorum}, {@code all}, or a
 * number — resolved against a partition's replication factor N.
 */
public record Quorum(Kind kind, int count) {
    public enum Kind { ONE, QUORUM, ALL, COUNT }

    public static final Quorum ONE = new Quorum(Kind.ONE, 1);
    public static final Quorum MAJORITY = new Quorum(Kind.QUORUM, 0);
    public static final Quorum ALL = new Quorum(Kind.ALL, 0);

    public Quorum {
        if (kind == Kind.COUNT && count < 1) {
            throw new IllegalArgumentException("a quorum count must be at least 1, got " + count);
        }
    }

    /** Parses {@code one}, {@code quorum}, {@code all} or a positive number. */
    public static Quorum parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        return switch (t) {
            case "one" -> ONE;
            case "quorum", "majority" -> MAJORITY;
            case "all" -> ALL;
            default -> {
                int n;
                try {
                    n = Integer.parseInt(t);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("must be one, quorum, all or a number, got '" + text + "'");
                }
                if (n < 1) {
                    throw new IllegalArgumentException("must be at least 1, got " + n);
                }
                yield new Quorum(Kind.COUNT, n);
            }
        };
    }

    /** How many replies this quorum needs out of {@code n} replicas; more than n is an error. */
    public int resolve(int n) {
        int needed = switch (kind) {
            case ONE -> 1;
            case QUORUM -> n / 2 + 1;
            case ALL -> n;
            case COUNT -> count;
        };
        if (needed > n) {
            throw new IllegalArgumentException("needs " + needed + " replicas but the namespace keeps only " + n);
        }
        return needed;
    }

    /**
     * Why this quorum cannot be met by {@code n} replicas, or null when it can. A single node is
     * N = 1: {@code one}, {@code quorum}, {@code all} and {@code 1} fit it, so client code written
     * for a cluster runs unchanged against it.
     */
    public String problem(int n) {
        try {
            resolve(n);
            return null;
        } catch (IllegalArgumentException e) {
            return this + ": " + e.getMessage();
        }
    }

    @Override
    public String toString() {
        return kind == Kind.COUNT ? Integer.toString(count) : kind.name().toLowerCase(Locale.ROOT);
    }
}
