package io.cairn.client;

import java.net.URI;
import java.util.Map;

/**
 * The credential was refused: {@code 401 unauthenticated} (no token, or one that is malformed,
 * unknown, expired or revoked) or {@code 403 forbidden} (its roles do not allow the request; the
 * message names the role needed). Nothing was done.
 */
public class AuthException extends CairnException {
    private static final long serialVersionUID = 1L;

    public AuthException(String code, String message, int status, Map<String, Object> details, URI endpoint) {
        super(code, message, status, details, false, endpoint, null);
    }
}
