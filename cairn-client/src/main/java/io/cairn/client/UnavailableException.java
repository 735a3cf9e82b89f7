package io.cairn.client;

import java.net.URI;
import java.util.Map;

/**
 * Cairn could not serve the request now, and <b>nothing was changed</b>: a {@code 503}
 * ({@code overloaded}, {@code quorum_unavailable}, {@code contention}, {@code clock_unsafe},
 * {@code not_ready}, ...) after the retries the policy allowed, or no endpoint could be reached
 * before the request was sent ({@code unreachable}, status 0). A read that failed in flight or
 * timed out is also reported here ({@code connection_lost}, {@code timeout}).
 */
public class UnavailableException extends CairnException {
    private static final long serialVersionUID = 1L;

    public UnavailableException(String code, String message, int status, Map<String, Object> details, boolean retryable, URI endpoint, Throwable cause) {
        super(code, message, status, details, retryable, endpoint, cause);
    }
}
