package io.cairn.testkit.linearizability;

/**
 * Limits on one {@link LinearizabilityChecker#check} call. Both are counts, not times, so a
 * verdict never depends on the machine's speed or load.
 *
 * @param maxSteps search steps allowed over the whole history (all partitions together). A step
 *     is one move of the search: trying an operation against the model, or undoing one. When they
 *     run out the verdict is {@link Verdict#UNKNOWN}. As a guide, one step takes well under a
 *     microsecond for the register model, and the 102 Jepsen etcd histories need a few million
 *     steps in all.
 * @param maxMemoEntries how many explored (operations applied, state) pairs the search remembers
 *     per partition. The memo is what keeps the search from being exponential in practice; once
 *     it is full, the search goes on without remembering more (still exact, possibly slower, so
 *     {@code maxSteps} then decides). An entry costs about {@code 100 + n/8} bytes plus the state,
 *     for {@code n} operations in the partition: with the register model and a few hundred
 *     operations, the default caps the memo near 150 MB.
 */
public record Budget(long maxSteps, int maxMemoEntries) {

    /** 100 million steps (seconds to a minute), a million memo entries. */
    public static final Budget DEFAULT = new Budget(100_000_000L, 1_000_000);

    public Budget {
        if (maxSteps < 1 || maxMemoEntries < 0) {
            throw new IllegalArgumentException("maxSteps must be positive and maxMemoEntries not negative");
        }
    }

    public Budget withMaxSteps(long steps) {
        return new Budget(steps, maxMemoEntries);
    }

    public Budget withMaxMemoEntries(int entries) {
        return new Budget(maxSteps, entries);
    }
}
