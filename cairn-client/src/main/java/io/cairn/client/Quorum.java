package io.cairn.client;

/**
 * How many of a key's replicas a read ({@code r}) or a write ({@code w}) waits for: {@link #ONE},
 * {@link #QUORUM} (a majority), {@link #ALL}, or a number. A single node accepts every quorum one
 * replica meets, so code written for a cluster runs unchanged against it.
 */
public final class Quorum {
    /** One replica. */
    public static final Quorum ONE = new Quorum("one");
    /** A majority of the key's replicas: the server's default. */
    public static final Quorum QUORUM = new Quorum("quorum");
    /** Every replica of the key. */
    public static final Quorum ALL = new Quorum("all");

    private final String wire;

    private Quorum(String wire) {
        this.wire = wire;
    }

    /** Exactly {@code replicas} replicas (1 to N; the server refuses more with {@code invalid_quorum}). */
    public static Quorum of(int replicas) {
        if (replicas < 1) {
            throw new IllegalArgumentException("a quorum is at least 1 replica, got " + replicas);
        }
        return new Quorum(Integer.toString(replicas));
    }

    /** The form the HTTP API takes: {@code one}, {@code quorum}, {@code all} or a number. */
    @Override
    public String toString() {
        return wire;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Quorum q && q.wire.equals(wire);
    }

    @Override
    public int hashCode() {
        return wire.hashCode();
    }
}
