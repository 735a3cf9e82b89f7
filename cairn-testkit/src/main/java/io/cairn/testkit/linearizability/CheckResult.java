package io.cairn.testkit.linearizability;

import java.util.List;
import java.util.Optional;

/**
 * The outcome of a check.
 *
 * @param verdict linearizable, not, or unknown (budget exhausted)
 * @param explanation one paragraph a person can act on: for a violation, the longest partial
 *     linearization found and the operation that could not be placed; for unknown, which budget
 *     ran out where
 * @param counterexample the details behind a {@link Verdict#NOT_LINEARIZABLE} verdict
 * @param steps search steps used, all partitions together
 * @param partitions how many partitions the history was split into (those checked before a
 *     violation or the budget stopped the check, and the rest)
 * @param largestMemo the most memo entries any partition used
 * @param memoSaturated whether some partition filled its memo (the search then went on without it)
 */
public record CheckResult<I, O>(
        Verdict verdict,
        String explanation,
        Optional<Counterexample<I, O>> counterexample,
        long steps,
        int partitions,
        long largestMemo,
        boolean memoSaturated) {

    public boolean isLinearizable() {
        return verdict == Verdict.LINEARIZABLE;
    }

    /**
     * Why a partition is not linearizable. The search found no order; among the partial orders it
     * tried, this is one of the longest: {@code linearized} can be applied in this order (and
     * respects real time), leaving the model in {@code state}. Then {@code blocked} must take
     * effect before it returns, but no operation still pending ({@code candidates}, which
     * includes {@code blocked}) can come next: each is refused by the model in that state, or
     * leads only to dead ends already explored.
     *
     * @param partitionKey the partition (the key, for a {@link KeyedModel})
     * @param partition every operation of that partition, by id
     * @param linearized the longest partial linearization, in order
     * @param state the model's state after it
     * @param blocked the completed operation that had to be placed next but could not
     * @param candidates the operations that could have been next, with why each failed
     */
    public record Counterexample<I, O>(
            Object partitionKey,
            List<Operation<I, O>> partition,
            List<Operation<I, O>> linearized,
            Object state,
            Operation<I, O> blocked,
            List<Candidate<I, O>> candidates) {}

    /**
     * An operation that could have come next after a partial linearization.
     *
     * @param operation the operation
     * @param refused whether the model refused it in that state (else it was allowed, but every
     *     way on from there failed)
     */
    public record Candidate<I, O>(Operation<I, O> operation, boolean refused) {}
}
