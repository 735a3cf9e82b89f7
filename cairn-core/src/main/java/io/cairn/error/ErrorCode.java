package io.cairn.error;

/**
 * The one table of operating errors: each has a stable code that clients may match on, and
 * whether retrying the same request can succeed. Protocol-neutral: each front end says a code its
 * own way (the HTTP status table is {@code HttpStatuses} in the server).
 *
 * <p>Codes are part of the API: never rename one; add new ones instead.
 */
public enum ErrorCode {
    INVALID_KEY("invalid_key", false),
    KEY_TOO_LONG("key_too_long", false),
    INVALID_TTL("invalid_ttl", false),
    INVALID_HEADER("invalid_header", false),
    INVALID_PARAMETER("invalid_parameter", false),
    INVALID_IDEMPOTENCY_KEY("invalid_idempotency_key", false),
    INVALID_QUORUM("invalid_quorum", false),
    CONDITIONAL_WRITE_UNSUPPORTED("conditional_write_unsupported", false),
    MALFORMED_BATCH("malformed_batch", false),
    MALFORMED_REQUEST("malformed_request", false),
    REQUEST_TIMEOUT("request_timeout", true),
    UNSUPPORTED_MEDIA_TYPE("unsupported_media_type", false),
    UNSUPPORTED_TRANSFER_ENCODING("unsupported_transfer_encoding", false),
    /** An {@code Expect} header asking for something other than {@code 100-continue}. */
    EXPECTATION_FAILED("expectation_failed", false),
    HTTP_VERSION_NOT_SUPPORTED("http_version_not_supported", false),
    TOO_MANY_OPERATIONS("too_many_operations", false),
    VALUE_TOO_LARGE("value_too_large", false),
    BODY_TOO_LARGE("body_too_large", false),
    /** A batch's {@code get} whose value would take the batch's reads past {@code limits.maxBatchReadBytes}. */
    RESPONSE_TOO_LARGE("response_too_large", false),
    HEADERS_TOO_LARGE("headers_too_large", false),
    KEY_NOT_FOUND("key_not_found", false),
    ROUTE_NOT_FOUND("route_not_found", false),
    METHOD_NOT_ALLOWED("method_not_allowed", false),
    PRECONDITION_FAILED("precondition_failed", false),
    IDEMPOTENCY_IN_FLIGHT("idempotency_in_flight", true),
    IDEMPOTENCY_KEY_REUSED("idempotency_key_reused", false),
    OVERLOADED("overloaded", true),
    STORAGE_STALLED("storage_stalled", true),
    STORAGE_FAILED("storage_failed", false),
    NOT_READY("not_ready", true),
    QUORUM_UNAVAILABLE("quorum_unavailable", true),
    OUTCOME_UNKNOWN("outcome_unknown", true),
    READ_TIMEOUT("read_timeout", true),
    /**
     * The node's clock is off by more than {@code cluster.maxClockOffset} (from its peers, or its
     * hybrid clock from its wall clock): it issues no versions until that passes. Also the refusal
     * a replica answers for a record stamped too far ahead of its clock.
     */
    CLOCK_UNSAFE("clock_unsafe", true),
    CORRUPT_RECORD("corrupt_record", false),
    /**
     * A peer's request came from another membership epoch than the receiver's: one of the two has
     * not caught up with a membership change yet. The refusal names both epochs.
     */
    EPOCH_MISMATCH("epoch_mismatch", true),
    /** No credential, or one that is malformed, unknown, expired or revoked. */
    UNAUTHENTICATED("unauthenticated", false),
    /** A valid credential whose roles do not allow this request. */
    FORBIDDEN("forbidden", false),
    /** The node could not look a credential up in time (its token store is out of reach); nothing was done. */
    AUTH_UNAVAILABLE("auth_unavailable", true),
    TOKEN_NOT_FOUND("token_not_found", false),
    /** A membership change names a node the cluster does not know. */
    NODE_NOT_FOUND("node_not_found", false),
    /** A membership change conflicts with the one running, or with the node's state. */
    MEMBERSHIP_CONFLICT("membership_conflict", false),
    /** A membership change would leave fewer nodes than N, or break zone diversity without the override. */
    MEMBERSHIP_UNSAFE("membership_unsafe", false),
    /** A membership change that is wrong in itself (an id or an address already in use, a reused id). */
    INVALID_MEMBER("invalid_member", false),
    /**
     * This node is no longer a member (it was decommissioned, removed or replaced): it coordinates
     * nothing. Another node can take the request; the message names some.
     */
    NOT_A_MEMBER("not_a_member", true),
    /** The metadata log has no majority (or did not answer in time): membership changes wait; data is served at the last epoch. */
    METADATA_UNAVAILABLE("metadata_unavailable", true),
    /**
     * A conditional write or serial read kept losing its rounds to other operations on the same key
     * until its deadline; nothing was changed. Retry after a pause.
     */
    CONTENTION("contention", true),
    /** A request names a namespace the cluster (or the node) does not define. */
    NAMESPACE_NOT_FOUND("namespace_not_found", false),
    /** A namespace definition that breaks a rule (a bad name, a quorum the cluster cannot meet, a weak quorum on a serial namespace). */
    INVALID_NAMESPACE("invalid_namespace", false),
    /** A namespace change that cannot be made here: the namespace limit is reached, or the cluster has no metadata log to agree on it. */
    NAMESPACE_CONFLICT("namespace_conflict", false),
    /** A change of the cluster's settings that names a setting members do not share, or breaks a rule. */
    INVALID_SETTING("invalid_setting", false),
    INTERNAL("internal_error", false);

    private final String code;
    private final boolean retryable;

    ErrorCode(String code, boolean retryable) {
        this.code = code;
        this.retryable = retryable;
    }

    private static final java.util.Map<String, ErrorCode> BY_CODE = java.util.Arrays.stream(values())
            .collect(java.util.stream.Collectors.toUnmodifiableMap(ErrorCode::code, c -> c));

    /** The error with this stable code, or null for a code this version does not know. */
    public static ErrorCode fromCode(String code) {
        return BY_CODE.get(code);
    }

    public String code() {
        return code;
    }

    public boolean retryable() {
        return retryable;
    }
}
