package io.cairn.error;

import java.util.Map;

/** An operating error on its way to the client: a code from the table and a human message. */
public final class CairnException extends RuntimeException {
    private final ErrorCode code;
    private final Map<String, Object> details;

    public CairnException(ErrorCode code, String message) {
        this(code, message, Map.of());
    }

    public CairnException(ErrorCode code, String message, Map<String, Object> details) {
        super(message, null, false, false);
        this.code = code;
        this.details = Map.copyOf(details);
    }

    public ErrorCode code() {
        return code;
    }

    /** Extra fields for the error body, such as the current version after a failed condition. */
    public Map<String, Object> details() {
        return details;
    }
}
