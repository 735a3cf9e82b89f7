package io.cairn.client;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The error table as a client sees it: which codes exist, which a retry may cure, and which
 * exception each becomes. Codes are the server's stable ones (docs/api.md, "Errors"); a code
 * this table does not know becomes a plain {@link CairnException}.
 */
final class Errors {
    static final JsonFactory JSON = JsonFactory.builder().build();

    /** Refused before anything ran, and worth another try (possibly on another node). */
    static final Set<String> REFUSED_RETRYABLE = Set.of("overloaded", "storage_stalled", "not_ready", "quorum_unavailable", "clock_unsafe",
            "auth_unavailable", "contention", "epoch_mismatch", "metadata_unavailable", "request_timeout", "storage_failed", "not_a_member");
    /** A write that may have run: a retry with the same idempotency key settles it. */
    static final Set<String> AMBIGUOUS = Set.of("outcome_unknown", "idempotency_in_flight");
    /**
     * Refusals that say something about the node rather than the request: the client marks the
     * node down for a while and tries another at once, without waiting for its Retry-After.
     */
    static final Set<String> NODE_LOCAL = Set.of("not_ready", "storage_failed", "storage_stalled", "clock_unsafe", "not_a_member");

    /** Every 4xx code the server defines, except the retryable ones (408, 409 idempotency_in_flight). */
    private static final Set<String> INVALID = Set.of("invalid_key", "key_too_long", "invalid_ttl", "invalid_header", "invalid_parameter",
            "invalid_idempotency_key", "invalid_quorum", "conditional_write_unsupported", "malformed_batch", "malformed_request",
            "unsupported_media_type", "expectation_failed", "too_many_operations", "value_too_large", "body_too_large", "headers_too_large", "key_not_found",
            "route_not_found", "method_not_allowed", "idempotency_key_reused", "token_not_found", "node_not_found", "namespace_not_found",
            "invalid_namespace", "invalid_setting", "namespace_conflict", "membership_conflict", "membership_unsafe", "invalid_member");
    /** Known codes that are neither of the above: 5xx answers about the data or the server itself. */
    private static final Set<String> OTHER_KNOWN = Set.of("read_timeout", "corrupt_record", "internal_error", "unsupported_transfer_encoding",
            "http_version_not_supported");
    private static final int MAX_DEPTH = 16;

    private Errors() {}

    /** An error body's parts; {@code code} is {@code http_<status>} when the body is not Cairn's JSON. */
    record Body(String code, String message, Map<String, Object> details) {}

    /** The exception for an error answer. */
    static CairnException from(int status, byte[] body, URI endpoint) {
        Body b = parse(status, body);
        return from(status, b.code(), b.message(), b.details(), endpoint);
    }

    static CairnException from(int status, String code, String message, Map<String, Object> details, URI endpoint) {
        if (status == 401 || status == 403) {
            return new AuthException(code, message, status, details, endpoint);
        }
        if (status == 412 || code.equals("precondition_failed")) {
            Object current = details.get("currentEtag");
            return new PreconditionFailedException(message, details, current instanceof String s ? s : null, endpoint);
        }
        if (code.equals("outcome_unknown")) {
            return new OutcomeUnknownException(message, status, details, null, endpoint, null);
        }
        if (status == 503 && REFUSED_RETRYABLE.contains(code)) {
            return new UnavailableException(code, message, status, details, true, endpoint, null);
        }
        if (INVALID.contains(code)) {
            return new InvalidRequestException(code, message, status, details, endpoint);
        }
        boolean known = REFUSED_RETRYABLE.contains(code) || AMBIGUOUS.contains(code) || OTHER_KNOWN.contains(code);
        boolean retryable = known && (REFUSED_RETRYABLE.contains(code) || AMBIGUOUS.contains(code) || code.equals("read_timeout"));
        return new CairnException(code, message, status, details, retryable, endpoint, null);
    }

    /** Reads {@code {"code": ..., "message": ..., ...details}}; anything else keeps its status and a bounded excerpt. */
    static Body parse(int status, byte[] body) {
        String fallbackCode = "http_" + status;
        if (body == null || body.length == 0) {
            return new Body(fallbackCode, "HTTP " + status + " with no body", Map.of());
        }
        try (JsonParser p = JSON.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return excerpt(fallbackCode, status, body);
            }
            String code = null;
            String message = null;
            Map<String, Object> details = new LinkedHashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                Object value = value(p, 0);
                if (name.equals("code") && value instanceof String s) {
                    code = s;
                } else if (name.equals("message") && value instanceof String s) {
                    message = s;
                } else {
                    details.put(name, value);
                }
            }
            if (code == null) {
                return excerpt(fallbackCode, status, body);
            }
            return new Body(code, message == null ? code : message, details);
        } catch (IOException e) {
            return excerpt(fallbackCode, status, body);
        }
    }

    private static Body excerpt(String code, int status, byte[] body) {
        String text = new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8);
        return new Body(code, "HTTP " + status + ": " + text, Map.of());
    }

    /** The current JSON value as Java: String, Long, Double, Boolean, null, List or Map; nesting is bounded. */
    static Object value(JsonParser p, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            throw new IOException("JSON nested deeper than " + MAX_DEPTH);
        }
        JsonToken t = p.currentToken();
        if (t == null) {
            throw new IOException("truncated JSON");
        }
        return switch (t) {
            case VALUE_STRING -> p.getText();
            case VALUE_NUMBER_INT -> p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? p.getBigIntegerValue() : p.getLongValue();
            case VALUE_NUMBER_FLOAT -> p.getDoubleValue();
            case VALUE_TRUE -> Boolean.TRUE;
            case VALUE_FALSE -> Boolean.FALSE;
            case VALUE_NULL -> null;
            case START_ARRAY -> {
                List<Object> list = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    list.add(value(p, depth + 1));
                }
                yield java.util.Collections.unmodifiableList(list);
            }
            case START_OBJECT -> {
                Map<String, Object> map = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    map.put(name, value(p, depth + 1));
                }
                yield java.util.Collections.unmodifiableMap(map);
            }
            default -> throw new IOException("unexpected JSON token " + t);
        };
    }
}
