package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.request.Limits;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Fuzzes {@link BatchCodec#parse}: any body either parses into a non-empty, in-limit list of
 * operations that says what the JSON says, or is refused with a {@link CairnException}; Jackson
 * and JDK exceptions must never escape (they would be 500s). Seeds live in
 * {@code BatchCodecFuzzTestInputs/<method>/}.
 */
class BatchCodecFuzzTest {
    private static final Limits LIMITS = Limits.DEFAULTS;
    private static final String[] TRICKY = {"", "*", " * ", "a", "\"x\"", "W/\"x\"", "\"0000018c00000000-1\"", "\"0000018c00000000-1\", *",
            "\ud800", "\udc00x", "\uD83D\uDE00", "\u0000", "1", "0", "-1", "500ms", "PT1S", "P1D", "none", "abc", "99999999999999999999",
            "PT99999999999999H", "AAE=", "AAE", "====", "text/plain", "x".repeat(1025), "\u00e9".repeat(513)};
    private static final String[] FIELDS = {"op", "key", "value", "valueBase64", "contentType", "ttl", "ifMatch", "ifNoneMatch", "other"};
    private static final String[] KINDS = {"put", "get", "delete", "PUT", ""};

    @FuzzTest(maxDuration = "10s")
    void parse(byte[] body) {
        List<Op> ops;
        try {
            ops = BatchCodec.parse(body, LIMITS);
        } catch (CairnException e) {
            assertThat(e.code()).isIn(ErrorCode.MALFORMED_BATCH, ErrorCode.TOO_MANY_OPERATIONS);
            return;
        }
        checkAgainstJson(ops, body);
    }

    /** Builds structurally plausible batches so the fuzzer reaches the per-field checks. */
    @FuzzTest(maxDuration = "10s")
    void parseStructured(FuzzedDataProvider data) {
        ArrayNode list = TestNode.JSON.createArrayNode();
        int n = data.consumeInt(0, 4);
        for (int i = 0; i < n; i++) {
            ObjectNode op = list.addObject();
            op.put("op", data.pickValue(KINDS));
            int fields = data.consumeInt(0, 5);
            for (int f = 0; f < fields; f++) {
                String name = data.pickValue(FIELDS);
                switch (data.consumeInt(0, 3)) {
                    case 0 -> op.put(name, data.pickValue(TRICKY));
                    case 1 -> op.put(name, data.consumeString(40));
                    case 2 -> op.put(name, data.consumeLong());
                    default -> op.putNull(name);
                }
            }
        }
        JsonNode root = data.consumeBoolean() ? list : TestNode.JSON.createObjectNode().set("operations", list);
        byte[] body;
        try {
            body = TestNode.JSON.writeValueAsBytes(root);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        parse(body);
    }

    /** Checks the limits, and that every key and text value is exactly the JSON's text. */
    private static void checkAgainstJson(List<Op> ops, byte[] body) {
        assertThat(ops).isNotEmpty();
        assertThat(ops.size()).isLessThanOrEqualTo(LIMITS.maxBatchOperations());
        JsonNode root;
        try {
            root = TestNode.JSON.readTree(body);
        } catch (Exception e) {
            throw new AssertionError("parse accepted a body Jackson cannot read", e);
        }
        JsonNode list = root.isObject() ? root.get("operations") : root;
        assertThat(list.size()).isEqualTo(ops.size());
        List<OpResult> results = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            JsonNode json = list.get(i);
            assertThat(op.key().length).isBetween(1, LIMITS.maxKeyBytes());
            assertThat(escaped(new String(op.key(), StandardCharsets.UTF_8))).as("operations[%d].key", i).isEqualTo(escaped(json.get("key").asText()));
            switch (op) {
                case Op.Put p -> {
                    assertThat(json.get("op").asText()).isEqualTo("put");
                    assertThat(p.value().length).isLessThanOrEqualTo(LIMITS.maxValueBytes());
                    assertThat(p.ttlMillis()).isBetween(Op.DEFAULT_TTL, Ttls.MAX.toMillis());
                    if (json.hasNonNull("value")) {
                        assertThat(escaped(new String(p.value(), StandardCharsets.UTF_8))).as("operations[%d].value", i).isEqualTo(escaped(json.get("value").asText()));
                    }
                    results.add(new OpResult.NotFound());
                }
                case Op.Delete d -> {
                    assertThat(json.get("op").asText()).isEqualTo("delete");
                    assertThat(d.condition().ifNoneMatchAny()).isFalse();
                    results.add(new OpResult.NotFound());
                }
                case Op.Get g -> {
                    assertThat(json.get("op").asText()).isEqualTo("get");
                    results.add(new OpResult.NotFound());
                }
                default -> throw new AssertionError("a client batch produced " + op);
            }
        }
        // Whatever parses can be rendered back.
        assertThat(BatchCodec.render(ops, results)).isNotEmpty();
    }

    /** Text with every non-ASCII char as a Java escape, so a lone surrogate shows in reports. */
    private static String escaped(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            sb.append(c >= 0x20 && c < 0x7F ? String.valueOf(c) : String.format("\\u%04x", (int) c));
        }
        return sb.toString();
    }
}
