package io.cairn.request;

import io.cairn.error.ErrorCode;
import java.util.List;
import java.util.Map;

/** The result of a {@link WriteRequest}, on a single node or a cluster alike. */
public sealed interface WriteOutcome {
    /**
     * The operations ran (now, or the first time when {@code replayed}); one answer per operation,
     * in operation order.
     */
    record Executed(List<Answer> answers, boolean replayed) implements WriteOutcome {
        public Executed {
            answers = List.copyOf(answers);
        }

        /** Results without replica counts: a single node's, or a replayed outcome's. */
        public static Executed of(List<OpResult> results, boolean replayed) {
            return new Executed(results.stream().map(Answer::of).toList(), replayed);
        }

        public List<OpResult> results() {
            return answers.stream().map(Answer::result).toList();
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
