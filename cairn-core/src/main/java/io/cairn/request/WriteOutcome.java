package io.cairn.request;

import io.cairn.error.ErrorCode;
import java.util.List;
import java.util.Map;

/** The result of a {@link WriteRequest}, on a single node or a cluster alike. */
public sealed interface WriteOutcome {
    /**
     * The operations ran (now, or the first time when {@code replayed}); one answer per operation,
     * in operation order.
     *
     * @param recorded whether the outcome is kept where a retry with the same idempotency key will
     *                 find it, so that the retry replays it instead of running again: always for
     *                 an idempotent request on a single node (the outcome is stored in the same
     *                 atomic batch); on a cluster, only when a majority of home replicas stored it
     *                 (for a replay: when writing the found outcome back reached a majority). Never
     *                 for a request without an idempotency key.
     */
    record Executed(List<Answer> answers, boolean replayed, boolean recorded) implements WriteOutcome {
        public Executed {
            answers = List.copyOf(answers);
        }

        /** Results without replica counts: a single node's, or a replayed outcome's. */
        public static Executed of(List<OpResult> results, boolean replayed, boolean recorded) {
            // On every write's path: one array, which the constructor's copy then keeps as it is.
            Answer[] answers = new Answer[results.size()];
            for (int i = 0; i < answers.length; i++) {
                answers[i] = Answer.of(results.get(i));
            }
            return new Executed(List.of(answers), replayed, recorded);
        }

        public List<OpResult> results() {
            OpResult[] results = new OpResult[answers.size()];
            for (int i = 0; i < results.length; i++) {
                results[i] = answers.get(i).result();
            }
            return java.util.Collections.unmodifiableList(java.util.Arrays.asList(results));
        }
    }

    /**
     * The request as a whole failed: refused before anything ran (idempotency conflicts, an
     * invalid quorum, the node overloaded), or, with {@code outcome_unknown}, not known to have
     * completed.
     */
    record Failed(ErrorCode code, String message, Map<String, Object> details) implements WriteOutcome {
        public Failed {
            details = Map.copyOf(details);
        }

        public Failed(ErrorCode code, String message) {
            this(code, message, Map.of());
        }
    }
}
