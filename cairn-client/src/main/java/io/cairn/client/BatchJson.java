package io.cairn.client;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The JSON of a batch: the request body ({@code {"operations": [...]}}, values always as
 * {@code valueBase64} so any bytes go through) and the answer ({@code {"results": [...]}}), read
 * with jackson-core's streaming parser. Fields this client does not know are skipped, so a newer
 * server's additions do not break it.
 */
final class BatchJson {
    private BatchJson() {}

    static byte[] request(Batch batch) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 + 64 * batch.size());
        try (JsonGenerator g = Errors.JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeArrayFieldStart("operations");
            for (Batch.Op op : batch.ops()) {
                g.writeStartObject();
                g.writeStringField("op", op.kind());
                g.writeStringField("key", op.key());
                if (op.value() != null) {
                    g.writeStringField("valueBase64", Base64.getEncoder().encodeToString(op.value()));
                }
                WriteOptions o = op.options();
                if (o.contentTypeOrNull() != null) {
                    g.writeStringField("contentType", o.contentTypeOrNull());
                }
                if (o.ttlText() != null) {
                    g.writeStringField("ttl", o.ttlText());
                }
                if (o.ifMatchHeader() != null) {
                    g.writeStringField("ifMatch", o.ifMatchHeader());
                }
                if (o.condition() == WriteOptions.Condition.IF_ABSENT) {
                    g.writeStringField("ifNoneMatch", "*");
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

    /** The items of a {@code 200} answer; a body that is not one result per operation is a {@code malformed_response}. */
    static List<BatchResult.Item> results(Batch batch, byte[] body, URI endpoint) {
        List<BatchResult.Item> items = new ArrayList<>(batch.size());
        try (JsonParser p = Errors.JSON.createParser(body)) {
            expect(p.nextToken(), JsonToken.START_OBJECT);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if (!field.equals("results")) {
                    p.skipChildren();
                    continue;
                }
                expect(t, JsonToken.START_ARRAY);
                while (p.nextToken() == JsonToken.START_OBJECT) {
                    if (items.size() == batch.size()) {
                        throw new IOException("more results than the batch's " + batch.size() + " operations");
                    }
                    items.add(item(p, batch.ops().get(items.size()), endpoint));
                }
                expect(p.currentToken(), JsonToken.END_ARRAY);
            }
        } catch (IOException | IllegalArgumentException | DateTimeParseException e) {
            throw malformed("the batch answer is not valid (the batch ran; its writes may have been applied): " + e.getMessage(), endpoint);
        }
        if (items.size() != batch.size()) {
            throw malformed("the batch answer has " + items.size() + " results for " + batch.size() + " operations", endpoint);
        }
        return items;
    }

    private static BatchResult.Item item(JsonParser p, Batch.Op op, URI endpoint) throws IOException {
        String kind = op.kind();
        String key = op.key();
        int status = 0;
        String etag = null;
        Instant expiresAt = null;
        String contentType = null;
        byte[] value = null;
        String code = null;
        String message = null;
        String currentEtag = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken t = p.nextToken();
            if (t == JsonToken.VALUE_NULL) {
                continue;
            }
            switch (field) {
                case "op" -> kind = p.getText();
                case "key" -> key = p.getText();
                case "status" -> status = p.getIntValue();
                case "etag" -> etag = p.getText();
                case "expiresAt" -> expiresAt = Instant.parse(p.getText());
                case "contentType" -> contentType = p.getText();
                case "value" -> value = p.getText().getBytes(StandardCharsets.UTF_8);
                case "valueBase64" -> value = Base64.getDecoder().decode(p.getText());
                case "code" -> code = p.getText();
                case "message" -> message = p.getText();
                case "currentEtag" -> currentEtag = p.getText();
                default -> p.skipChildren();
            }
        }
        expect(p.currentToken(), JsonToken.END_OBJECT);
        if (!kind.equals(op.kind()) || !key.equals(op.key())) {
            throw new IOException("result " + kind + " " + key + " does not answer operation " + op.kind() + " " + op.key());
        }
        Value v = kind.equals("get") && status == 200 && value != null ? new Value(key, value, contentType, etag, expiresAt) : null;
        return new BatchResult.Item(kind, key, status, etag, expiresAt, v, code, message, currentEtag, endpoint);
    }

    private static void expect(JsonToken actual, JsonToken expected) throws IOException {
        if (actual != expected) {
            throw new IOException("expected " + expected + ", found " + actual);
        }
    }

    private static CairnException malformed(String message, URI endpoint) {
        return new CairnException("malformed_response", message, 200, java.util.Map.of(), false, endpoint, null);
    }
}
