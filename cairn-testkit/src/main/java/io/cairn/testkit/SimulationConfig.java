package io.cairn.testkit;

/**
 * What a test chooses about a run; everything else (cluster size, knobs, faults) the seed draws.
 *
 * @param seed    the one source of every random choice in the run
 * @param scale   how long and busy the run is
 * @param canary  a deliberately broken variant the checkers must catch, or {@link Canary#NONE}
 * @param verbose keep a readable trace of every event (for replaying a failing seed)
 * @param membershipChanges the cluster changes membership through the metadata log while it runs
 *                (joins of spare nodes, decommissions, removals and replacements of dead nodes)
 */
public record SimulationConfig(long seed, Scale scale, Canary canary, boolean verbose, boolean membershipChanges) {
    public SimulationConfig(long seed, Scale scale, Canary canary, boolean verbose) {
        this(seed, scale, canary, verbose, false);
    }

    public enum Scale {
        /** The default build: 200-400 operations over 30-60 s of virtual time. */
        SMALL,
        /** The soak run: 800-2000 operations over 60-150 s of virtual time. */
        SOAK
    }

    /** Deliberately broken variants: a simulator whose checkers cannot see these is not testing anything. */
    public enum Canary {
        NONE,
        /** Node 1's replica acknowledges writes before they are durable (ASYNC), so its crashes lose them. */
        ASYNC_DURABILITY,
        /** Node 1 coordinates every write at W=one whatever the client asked for, yet reports the W it was asked. */
        WEAK_WRITE_QUORUM,
        /** Node 1's hybrid clock has no max offset: it takes far-future timestamps from hostile peers. */
        NO_CLOCK_BOUND,
        /** Node 1 ignores idempotency keys (runs every attempt afresh), yet reports each outcome as recorded. */
        FORGETFUL_IDEMPOTENCY,
        /** Node 1 runs a batch's operations all at once, ignoring per-key order. */
        UNORDERED_BATCH,
        /** No node runs anti-entropy exchanges, while hints are lost in crashes: replicas stay apart. */
        NO_EXCHANGES,
        /** Every node purges tombstones by time alone (no purge rule), with a short grace and lost hints. */
        PURGE_BY_TIME,
        /** Membership-change runs: every stream request is answered "nothing, done", so incoming replicas take over empty. */
        STREAM_NOTHING,
        /**
         * Node 1's Paxos proposer never sees what its peers' promises carry (their accepted
         * proposals, commits and stored records): it decides conditions on its own replica's state.
         */
        SKIP_PREPARE_READ,
        /**
         * Every replica stores its Paxos states without the commits they list, while claiming it
         * dropped none: proposers rule their overtaken proposals out (answer {@code 412}, or
         * propose again) when they were in fact chosen and written over. Three in ten acceptances
         * are lost, so that proposals are chosen unknown to their proposers often enough to see it.
         */
        FORGETFUL_COMMITS,
        /**
         * Replicas take Paxos steps from a proposer that has not applied the change that made a
         * namespace serial (the laggard's requests in the flip namespace are sent as from that
         * change's epoch): its serial reads answer records its own replica alone took, as in a
         * quorum namespace, which the next round through another node does not see.
         */
        STALE_SERIAL_PROPOSER
    }

    public static SimulationConfig of(long seed) {
        return new SimulationConfig(seed, Scale.SMALL, Canary.NONE, false);
    }

    public SimulationConfig verbose(boolean on) {
        return new SimulationConfig(seed, scale, canary, on, membershipChanges);
    }

    public SimulationConfig scale(Scale s) {
        return new SimulationConfig(seed, s, canary, verbose, membershipChanges);
    }

    public SimulationConfig canary(Canary c) {
        return new SimulationConfig(seed, scale, c, verbose, membershipChanges);
    }

    public SimulationConfig membershipChanges(boolean on) {
        return new SimulationConfig(seed, scale, canary, verbose, on);
    }
}
