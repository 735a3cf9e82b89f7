package io.cairn.testkit.linearizability;

/**
 * A sequential specification: what one copy of the object, applying operations one at a time,
 * may answer. The checker asks whether a concurrent {@link History} could have come from it.
 *
 * <p>States must be immutable values with {@code equals} and {@code hashCode}: the search
 * remembers (set of operations applied, state) pairs it has already explored and never explores
 * one twice, so two states that behave alike should be equal. {@code null} is not a state; it
 * means "not allowed".
 *
 * <p>Models are deterministic: an operation in a state leads to at most one next state.
 *
 * @param <S> the state
 * @param <I> an operation's input (what was asked)
 * @param <O> an operation's output (what was answered)
 */
public interface Model<S, I, O> {

    /** The state before any operation. */
    S initialState();

    /**
     * Applies an operation whose answer is known.
     *
     * @return the next state, or {@code null} if the object in {@code state} could not have
     *     answered {@code output} to {@code input}
     */
    S step(S state, I input, O output);

    /**
     * Applies an operation whose answer is not known (it timed out, or its client crashed):
     * whatever it would have answered is accepted.
     *
     * @return the next state, or {@code null} if the operation cannot take effect in
     *     {@code state} at all
     */
    S stepUnknownOutput(S state, I input);

    /**
     * The partition an operation belongs to. Operations of different partitions must never
     * affect each other (for instance, different keys of a map of independent registers): then the
     * whole history is linearizable exactly when each partition's operations are
     * (P-compositionality), and the checker searches each partition on its own, which is much
     * cheaper. Keys are compared with {@code equals}. By default everything is one partition.
     */
    default Object partitionKey(I input) {
        return Whole.WHOLE;
    }

    /** The one partition of a model that does not partition its operations. */
    enum Whole {
        WHOLE
    }
}
