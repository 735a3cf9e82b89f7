package io.cairn.client;

import java.net.URI;
import java.util.Map;
import java.util.Optional;

/**
 * A write that <b>may or may not</b> have been applied: the server answered
 * {@code 504 outcome_unknown}, or the connection failed or timed out after the request was sent,
 * and the retries the policy allowed did not settle it. Never treat it as "not written".
 *
 * <p>When the write carried an idempotency key ({@link #idempotencyKey()}), sending the same
 * request again with that key ({@link WriteOptions#idempotencyKey(String)}) settles it safely:
 * the server replays the first outcome or runs the write once. A serial read tells which value
 * the key holds now.
 */
public class OutcomeUnknownException extends CairnException {
    private static final long serialVersionUID = 1L;

    private final String idempotencyKey;

    public OutcomeUnknownException(String message, int status, Map<String, Object> details, String idempotencyKey, URI endpoint, Throwable cause) {
        super("outcome_unknown", message, status, details, true, endpoint, cause);
        this.idempotencyKey = idempotencyKey;
    }

    /** The idempotency key the write carried, to retry it with. */
    public Optional<String> idempotencyKey() {
        return Optional.ofNullable(idempotencyKey);
    }
}
