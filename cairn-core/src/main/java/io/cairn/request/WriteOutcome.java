package io.cairn.request;

import io.cairn.error.ErrorCode;
import java.util.List;

/** The result of a {@link WriteRequest}. */
public sealed interface WriteOutcome {
    /** The operations ran (now, or the first time when {@code replayed}); one result per operation. */
    record Executed(List<OpResult> results, boolean replayed) implements WriteOutcome {
        public Executed {
            results = List.copyOf(results);
        }
    }

    /** Refused as a whole before anything ran (idempotency conflicts). */
    record Refused(ErrorCode code, String message) implements WriteOutcome {}
}
