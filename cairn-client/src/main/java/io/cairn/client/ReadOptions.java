package io.cairn.client;

import java.util.Objects;

/**
 * How a read is made: at a read quorum {@code r}, or as a linearizable {@code serial} read (a
 * Paxos round on a cluster, which takes no {@code r}). Immutable; each method returns a copy.
 */
public final class ReadOptions {
    private static final ReadOptions DEFAULTS = new ReadOptions(null, false);

    private final Quorum r;
    private final boolean serial;

    private ReadOptions(Quorum r, boolean serial) {
        this.r = r;
        this.serial = serial;
    }

    /** The server's defaults: a quorum read at the namespace's R. */
    public static ReadOptions defaults() {
        return DEFAULTS;
    }

    /** Reads at {@code r} replicas; a serial read takes none. */
    public ReadOptions r(Quorum r) {
        Objects.requireNonNull(r, "r");
        if (serial) {
            throw new IllegalArgumentException("a serial read takes no read quorum");
        }
        return new ReadOptions(r, false);
    }

    /**
     * A linearizable read ({@code consistency=serial}): it sees every write acknowledged before it
     * started and finishes any conditional write still in progress first.
     */
    public ReadOptions serial() {
        if (r != null) {
            throw new IllegalArgumentException("a serial read takes no read quorum");
        }
        return new ReadOptions(null, true);
    }

    Quorum readQuorum() {
        return r;
    }

    boolean isSerial() {
        return serial;
    }
}
