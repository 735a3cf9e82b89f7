package io.cairn.testkit.linearizability;

/** What the checker concluded about a history. */
public enum Verdict {
    /** Some order of the operations, consistent with real time, satisfies the model. */
    LINEARIZABLE,
    /** No such order exists: the search was exhaustive. */
    NOT_LINEARIZABLE,
    /** The budget ran out before the search could decide; nothing is claimed either way. */
    UNKNOWN
}
