package io.cairn.client;

import java.net.URI;
import java.util.Map;
import java.util.Optional;

/**
 * An error Cairn answered ({@code {"code": ..., "message": ..., ...details}}), or one the client
 * met reaching it (status 0). Match on {@link #code()}, which is stable, not on the message.
 * Subclasses group the codes an application usually handles apart; a code this client does not
 * know is a plain {@code CairnException}.
 *
 * <p>A missing key is not an error: reads return {@link Optional#empty()}.
 */
public class CairnException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String code;
    private final int status;
    private final transient Map<String, Object> details;
    private final boolean retryable;
    private final transient URI endpoint;

    /**
     * @param code the stable error code ({@code quorum_unavailable}, ...)
     * @param status the HTTP status, or 0 when no answer came
     * @param details the error body's fields besides code and message
     * @param retryable whether the same request may succeed later
     * @param endpoint the endpoint that answered, or null
     */
    public CairnException(String code, String message, int status, Map<String, Object> details, boolean retryable, URI endpoint, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.status = status;
        this.details = details == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(details));
        this.retryable = retryable;
        this.endpoint = endpoint;
    }

    /** The stable error code. */
    public String code() {
        return code;
    }

    /** The HTTP status, or 0 when the client got no answer. */
    public int status() {
        return status;
    }

    /** The error body's other fields (numbers, strings, booleans, nulls, lists and maps of them). */
    public Map<String, Object> details() {
        return details;
    }

    /** Whether the same request may succeed if sent again later (writes: with the same idempotency key). */
    public boolean retryable() {
        return retryable;
    }

    /** The endpoint that answered, when one did. */
    public Optional<URI> endpoint() {
        return Optional.ofNullable(endpoint);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + code + (status == 0 ? "" : " " + status) + "]: " + getMessage();
    }
}
