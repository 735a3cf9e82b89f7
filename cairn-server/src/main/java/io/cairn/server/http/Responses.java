package io.cairn.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.LinkedHashMap;
import java.util.Map;

/** Builds responses, above all the one JSON error shape: {"code": ..., "message": ..., details}. */
public final class Responses {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String APPLICATION_JSON = "application/json";

    private Responses() {}

    public static FullHttpResponse error(CairnException e) {
        return error(e.code(), e.getMessage(), e.details());
    }

    public static FullHttpResponse error(ErrorCode code, String message) {
        return error(code, message, Map.of());
    }

    /** The longest error message sent: a message that quotes what a client sent stays bounded whatever it sent. */
    static final int MAX_MESSAGE_CHARS = 1024;

    public static FullHttpResponse error(ErrorCode code, String message, Map<String, Object> details) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("code", code.code());
        body.put("message", message != null && message.length() > MAX_MESSAGE_CHARS
                ? message.substring(0, MAX_MESSAGE_CHARS) + "… (" + (message.length() - MAX_MESSAGE_CHARS) + " more characters)" : message);
        body.putAll(details);
        FullHttpResponse r = json(HttpResponseStatus.valueOf(HttpStatuses.of(code)), body);
        // A retry helps here, after a pause: say how long (the first attempt of an idempotent request is still running, too).
        if (code.retryable() && (HttpStatuses.of(code) == 503 || code == ErrorCode.IDEMPOTENCY_IN_FLIGHT)) {
            r.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
        }
        return r;
    }

    public static FullHttpResponse json(HttpResponseStatus status, Object body) {
        try {
            return bytes(status, JSON.writeValueAsBytes(body), APPLICATION_JSON);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static FullHttpResponse bytes(HttpResponseStatus status, byte[] body, String contentType) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        if (contentType != null) {
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        }
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        return r;
    }

    public static FullHttpResponse empty(HttpResponseStatus status) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
        if (status.code() != 204 && status.code() != 304) {
            r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        }
        return r;
    }
}
