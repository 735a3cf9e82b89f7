package io.cairn.testkit;

/**
 * One broken property found by a simulation run.
 *
 * @param kind    which checker or invariant found it
 * @param timeMillis virtual time at which it was found (or the end of the run for history checks)
 * @param message what was expected and what happened, with the ids needed to find it in the trace
 */
public record Violation(Kind kind, long timeMillis, String message) {
    public enum Kind {
        /** An acknowledged write is gone after the cluster healed (checker a). */
        LOST_WRITE,
        /** A read with R + W > N missed an acknowledged write that completed before it began (checker b). */
        READ_YOUR_WRITES,
        /** Home replicas still disagree after healing and a read at R=all (checker c). */
        DIVERGENCE,
        /** A read returned a value no write produced, or a write reported as not executed. */
        INTEGRITY,
        /** A per-step invariant failed: HLC, stored versions, crashed nodes acting. */
        INVARIANT,
        /** The cluster did not settle: hints not drained, final reads failing, event budget spent. */
        LIVENESS,
        /**
         * A clock ran ahead of the cluster: a node's HLC more than the max clock offset (plus the
         * ceiling lease after a restart) ahead of the largest physical clock, or a stored or
         * client-visible record stamped beyond that.
         */
        CLOCK,
        /**
         * The idempotency contract broke: a request ran again after its outcome was recorded, a
         * reused key ran another request, or a replay returned results no execution produced.
         */
        IDEMPOTENCY,
        /**
         * A batch broke per-key order: a later operation on a key did not see an earlier one of the
         * same batch, or answers came back out of operation order.
         */
        BATCH_ORDER,
        /**
         * The token store broke its promise: a read that started after a revocation was
         * acknowledged still let the token in, or one that started after a token's creation was
         * acknowledged (and before any revocation was asked) did not find it.
         */
        AUTH,
        /**
         * The conditional writes and serial reads of a key (per-key Paxos) are not linearizable: no
         * order of them respects real time and a register's rules.
         */
        LINEARIZABILITY,
        /** A client's later write was stamped below its earlier one although it carried its causal token. */
        CAUSALITY,
        /** Core code threw where it must not. */
        EXCEPTION
    }

    @Override
    public String toString() {
        return kind + " at " + timeMillis + "ms: " + message;
    }
}
