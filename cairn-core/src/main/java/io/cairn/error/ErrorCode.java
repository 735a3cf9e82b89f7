package io.cairn.error;

/**
 * The one table of operating errors: each has a stable code that clients may match on, the HTTP
 * status it maps to, and whether retrying the same request can succeed.
 *
 * <p>Codes are part of the API: never rename one; add new ones instead.
 */
public enum ErrorCode {
    INVALID_KEY("invalid_key", 400, false),
    KEY_TOO_LONG("key_too_long", 400, false),
    INVALID_TTL("invalid_ttl", 400, false),
    INVALID_HEADER("invalid_header", 400, false),
    INVALID_PARAMETER("invalid_parameter", 400, false),
    INVALID_IDEMPOTENCY_KEY("invalid_idempotency_key", 400, false),
    INVALID_QUORUM("invalid_quorum", 400, false),
    CONDITIONAL_WRITE_UNSUPPORTED("conditional_write_unsupported", 400, false),
    MALFORMED_BATCH("malformed_batch", 400, false),
    MALFORMED_REQUEST("malformed_request", 400, false),
    REQUEST_TIMEOUT("request_timeout", 408, true),
    UNSUPPORTED_MEDIA_TYPE("unsupported_media_type", 415, false),
    UNSUPPORTED_TRANSFER_ENCODING("unsupported_transfer_encoding", 501, false),
    HTTP_VERSION_NOT_SUPPORTED("http_version_not_supported", 505, false),
    TOO_MANY_OPERATIONS("too_many_operations", 413, false),
    VALUE_TOO_LARGE("value_too_large", 413, false),
    BODY_TOO_LARGE("body_too_large", 413, false),
    HEADERS_TOO_LARGE("headers_too_large", 431, false),
    KEY_NOT_FOUND("key_not_found", 404, false),
    ROUTE_NOT_FOUND("route_not_found", 404, false),
    METHOD_NOT_ALLOWED("method_not_allowed", 405, false),
    PRECONDITION_FAILED("precondition_failed", 412, false),
    IDEMPOTENCY_IN_FLIGHT("idempotency_in_flight", 409, true),
    IDEMPOTENCY_KEY_REUSED("idempotency_key_reused", 422, false),
    OVERLOADED("overloaded", 503, true),
    STORAGE_STALLED("storage_stalled", 503, true),
    STORAGE_FAILED("storage_failed", 503, false),
    NOT_READY("not_ready", 503, true),
    QUORUM_UNAVAILABLE("quorum_unavailable", 503, true),
    OUTCOME_UNKNOWN("outcome_unknown", 504, true),
    READ_TIMEOUT("read_timeout", 504, true),
    /**
     * The node's clock is off by more than {@code cluster.maxClockOffset} (from its peers, or its
     * hybrid clock from its wall clock): it issues no versions until that passes. Also the refusal
     * a replica answers for a record stamped too far ahead of its clock.
     */
    CLOCK_UNSAFE("clock_unsafe", 503, true),
    CORRUPT_RECORD("corrupt_record", 500, false),
    INTERNAL("internal_error", 500, false);

    private final String code;
    private final int httpStatus;
    private final boolean retryable;

    ErrorCode(String code, int httpStatus, boolean retryable) {
        this.code = code;
        this.httpStatus = httpStatus;
        this.retryable = retryable;
    }

    public String code() {
        return code;
    }

    public int httpStatus() {
        return httpStatus;
    }

    public boolean retryable() {
        return retryable;
    }
}
