package io.cairn.client;

import java.net.URI;
import java.util.Map;

/**
 * Cairn refused the request as it is (a {@code 4xx} such as {@code invalid_key},
 * {@code value_too_large}, {@code invalid_quorum}, {@code namespace_not_found},
 * {@code idempotency_key_reused}): sending it again unchanged will fail again; nothing was done.
 */
public class InvalidRequestException extends CairnException {
    private static final long serialVersionUID = 1L;

    public InvalidRequestException(String code, String message, int status, Map<String, Object> details, URI endpoint) {
        super(code, message, status, details, false, endpoint, null);
    }
}
