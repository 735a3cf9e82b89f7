package io.cairn.server.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.record.Record;
import io.cairn.request.Condition;
import io.cairn.request.Limits;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The JSON form of a batch: parsing a request into {@link Op}s (rejecting the whole batch, and
 * naming the operation, on any problem) and rendering one result per operation.
 *
 * <pre>
 * {"operations": [
 *   {"op": "put", "key": "a", "value": "text", "ttl": "30s", "ifMatch": "\"...\""},
 *   {"op": "put", "key": "b", "valueBase64": "AAE=", "contentType": "application/octet-stream"},
 *   {"op": "get", "key": "a"},
 *   {"op": "delete", "key": "b", "ifMatch": "\"...\""}]}
 * </pre>
 * A bare JSON array of operations is accepted too.
 */
public final class BatchCodec {
    // Strict: a field given twice or anything after the document is an error, never resolved silently.
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final JsonFactory FACTORY = JSON.getFactory();
    private static final Set<String> PUT_FIELDS = Set.of("op", "key", "value", "valueBase64", "contentType", "ttl", "ifMatch", "ifNoneMatch");
    private static final Set<String> DELETE_FIELDS = Set.of("op", "key", "ifMatch");
    private static final Set<String> GET_FIELDS = Set.of("op", "key");

    private BatchCodec() {}

    /**
     * Reads a request body as one strict JSON document (no repeated field, nothing after it);
     * what is not is refused with the error {@code malformed} makes of the reason.
     */
    static JsonNode readStrict(byte[] body, java.util.function.Function<String, CairnException> malformed) {
        try {
            return JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw malformed.apply("the body is not valid JSON: " + describe(e));
        } catch (IOException e) {
            // Undecodable bytes (for example a body Jackson takes for broken UTF-32).
            throw malformed.apply("the body is not valid JSON text: " + e.getMessage());
        }
    }

    /**
     * What is wrong with a body, in the client's terms: the parser's own message names its Java
     * types and switches for some failures (a value after the document, a limit of the reader),
     * which say nothing to a client; those get a plain sentence, and every one its place.
     */
    static String describe(JsonProcessingException e) {
        String reason;
        if (e instanceof com.fasterxml.jackson.core.exc.StreamConstraintsException) {
            reason = "it exceeds a limit of the JSON reader (nesting depth " + com.fasterxml.jackson.core.StreamReadConstraints.DEFAULT_MAX_DEPTH
                    + ", number length, string length or name length)";
        } else if (e instanceof com.fasterxml.jackson.databind.exc.MismatchedInputException m && m.getOriginalMessage() != null
                && m.getOriginalMessage().startsWith("Trailing token")) {
            reason = "there is more after the JSON document (one document per body)";
        } else {
            reason = e.getOriginalMessage() == null ? "malformed" : e.getOriginalMessage();
            int technical = indexOfAny(reason, "`com.fasterxml", "com.fasterxml", "StreamReadFeature", "DeserializationFeature", "(for ", "(start marker at",
                    "[Source:", " at [");
            if (technical > 0) {
                reason = reason.substring(0, technical).trim();
            }
        }
        com.fasterxml.jackson.core.JsonLocation at = e.getLocation();
        return at == null || at.getLineNr() < 1 ? reason : reason + " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
    }

    private static int indexOfAny(String text, String... parts) {
        int first = -1;
        for (String p : parts) {
            int i = text.indexOf(p);
            if (i >= 0 && (first < 0 || i < first)) {
                first = i;
            }
        }
        return first;
    }

    /** A batch refused for its operation {@code index}, which failed with {@code cause}: {@code malformed_batch} naming both. */
    static CairnException badOperation(int index, CairnException cause) {
        return new CairnException(ErrorCode.MALFORMED_BATCH, "operations[" + index + "]: " + cause.getMessage(),
                java.util.Map.of("operation", index, "cause", cause.code().code()));
    }

    public static List<Op> parse(byte[] body, Limits limits) {
        JsonNode root = readStrict(body, BatchCodec::malformed);
        if (root == null || root.isMissingNode()) {
            throw malformed("the body is empty; expected {\"operations\": [...]}");
        }
        JsonNode list = root;
        if (root.isObject()) {
            Iterator<String> names = root.fieldNames();
            while (names.hasNext()) {
                String n = names.next();
                if (!n.equals("operations")) {
                    throw malformed("unknown field '" + n + "'; expected {\"operations\": [...]}");
                }
            }
            list = root.get("operations");
            if (list == null) {
                throw malformed("missing field 'operations'");
            }
        }
        if (!list.isArray()) {
            throw malformed("'operations' must be a JSON array");
        }
        if (list.isEmpty()) {
            throw malformed("'operations' is empty");
        }
        if (list.size() > limits.maxBatchOperations()) {
            throw new CairnException(ErrorCode.TOO_MANY_OPERATIONS,
                    "the batch has " + list.size() + " operations; the limit is " + limits.maxBatchOperations());
        }
        List<Op> ops = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            try {
                ops.add(parseOp(list.get(i), limits));
            } catch (CairnException e) {
                throw badOperation(i, e);
            }
        }
        return ops;
    }

    private static Op parseOp(JsonNode n, Limits limits) {
        if (!n.isObject()) {
            throw malformed("must be a JSON object");
        }
        String kind = text(n, "op", true);
        Set<String> allowed = switch (kind) {
            case "put" -> PUT_FIELDS;
            case "delete" -> DELETE_FIELDS;
            case "get" -> GET_FIELDS;
            default -> throw malformed("'op' must be put, get or delete, got '" + kind + "'");
        };
        Iterator<String> names = n.fieldNames();
        while (names.hasNext()) {
            String f = names.next();
            if (!allowed.contains(f)) {
                throw malformed("unknown field '" + f + "' for a " + kind);
            }
        }
        byte[] key = KeyCodec.keyFromText(text(n, "key", true), limits.maxKeyBytes());
        return switch (kind) {
            case "get" -> new Op.Get(key);
            case "delete" -> new Op.Delete(key, condition(n));
            default -> {
                String value = text(n, "value", false);
                String base64 = text(n, "valueBase64", false);
                if ((value == null) == (base64 == null)) {
                    throw malformed("a put needs exactly one of 'value' (text) or 'valueBase64'");
                }
                byte[] bytes;
                if (value != null) {
                    bytes = KeyCodec.strictUtf8(value, "'value'");
                } else {
                    try {
                        bytes = Base64.getDecoder().decode(base64);
                    } catch (IllegalArgumentException e) {
                        throw malformed("'valueBase64' is not valid base64");
                    }
                }
                if (bytes.length > limits.maxValueBytes()) {
                    throw new CairnException(ErrorCode.VALUE_TOO_LARGE, "the value is " + bytes.length + " bytes; the limit is " + limits.maxValueBytes());
                }
                JsonNode ttlNode = n.get("ttl");
                long ttl;
                if (ttlNode == null || ttlNode.isNull()) {
                    ttl = Op.DEFAULT_TTL;
                } else if (ttlNode.isTextual()) {
                    ttl = Ttls.parse(ttlNode.asText());
                } else if (ttlNode.isNumber()) {
                    ttl = Ttls.parseSeconds(ttlNode);
                } else {
                    throw malformed("'ttl' must be a number of seconds or a duration string");
                }
                String contentType = ContentTypes.checked(text(n, "contentType", false), "'contentType'", BatchCodec::malformed);
                yield new Op.Put(key, bytes, contentType, ttl, condition(n));
            }
        };
    }

    private static Condition condition(JsonNode n) {
        String ifMatch = text(n, "ifMatch", false);
        String ifNoneMatch = text(n, "ifNoneMatch", false);
        if (ifNoneMatch != null && !ifNoneMatch.trim().equals("*")) {
            throw malformed("'ifNoneMatch' supports only \"*\" (create only if absent)");
        }
        if (ifMatch != null && ifNoneMatch != null) {
            throw malformed("'ifMatch' and 'ifNoneMatch' cannot be combined");
        }
        if (ifNoneMatch != null) {
            return Condition.ifAbsent();
        }
        if (ifMatch == null) {
            return Condition.NONE;
        }
        Etags.Match m = Etags.parse(ifMatch, "'ifMatch'");
        return m.any() ? new Condition(java.util.Set.of(), true, false) : Condition.ifMatchOneOf(m.versions());
    }

    private static String text(JsonNode n, String field, boolean required) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw malformed("missing '" + field + "'");
            }
            return null;
        }
        if (!v.isTextual()) {
            throw malformed("'" + field + "' must be a string");
        }
        return v.asText();
    }

    private static CairnException malformed(String message) {
        return new CairnException(ErrorCode.MALFORMED_BATCH, message);
    }

    /** Renders {"results": [...]}, one entry per operation, in order. */
    public static byte[] render(List<Op> ops, List<OpResult> results) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 + 64 * results.size());
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.writeStartObject();
            g.writeArrayFieldStart("results");
            for (int i = 0; i < results.size(); i++) {
                Op op = ops.get(i);
                g.writeStartObject();
                g.writeStringField("op", op instanceof Op.Put ? "put" : op instanceof Op.Delete ? "delete" : "get");
                g.writeStringField("key", new String(op.key(), StandardCharsets.UTF_8));
                switch (results.get(i)) {
                    case OpResult.Written w -> {
                        g.writeNumberField("status", 200);
                        g.writeStringField("etag", Etags.of(w.version()));
                        if (w.expiresAtMillis() != Record.NO_EXPIRY) {
                            g.writeStringField("expiresAt", Instant.ofEpochMilli(w.expiresAtMillis()).toString());
                        }
                    }
                    case OpResult.Deleted d -> {
                        g.writeNumberField("status", 204);
                        g.writeStringField("etag", Etags.of(d.version()));
                    }
                    case OpResult.PreconditionFailed p -> {
                        g.writeNumberField("status", 412);
                        g.writeStringField("code", ErrorCode.PRECONDITION_FAILED.code());
                        g.writeStringField("message", "the condition did not hold");
                        if (p.current() != null) {
                            g.writeStringField("currentEtag", Etags.of(p.current()));
                        } else {
                            g.writeNullField("currentEtag");
                        }
                    }
                    case OpResult.Found f -> {
                        Record r = f.record();
                        g.writeNumberField("status", 200);
                        g.writeStringField("etag", Etags.of(r.version()));
                        if (r.contentType() != null) {
                            g.writeStringField("contentType", r.contentType());
                        }
                        if (r.hasExpiry()) {
                            g.writeStringField("expiresAt", Instant.ofEpochMilli(r.expiresAtMillis()).toString());
                        }
                        String text = utf8OrNull(r.value());
                        if (text != null) {
                            g.writeStringField("value", text);
                        } else {
                            g.writeStringField("valueBase64", Base64.getEncoder().encodeToString(r.value()));
                        }
                    }
                    case OpResult.Superseded sup -> {
                        g.writeNumberField("status", 200);
                        g.writeStringField("etag", Etags.of(sup.current()));
                    }
                    case OpResult.NotFound nf -> {
                        g.writeNumberField("status", 404);
                        g.writeStringField("code", ErrorCode.KEY_NOT_FOUND.code());
                        g.writeStringField("message", "no live value for this key");
                    }
                    case OpResult.Failed f -> {
                        g.writeNumberField("status", HttpStatuses.of(f.code()));
                        g.writeStringField("code", f.code().code());
                        g.writeStringField("message", f.message());
                    }
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static String utf8OrNull(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
