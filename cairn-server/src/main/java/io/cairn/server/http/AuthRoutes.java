package io.cairn.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.auth.Role;
import io.cairn.auth.Verdict;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.server.config.Units;
import io.cairn.server.security.TokenAdmin;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The {@code /admin/auth} routes: who am I, and token management (list, create, show, revoke,
 * rotate). Every route but {@code whoami} needs {@code admin:*}, which {@link NodeApi} checked.
 */
final class AuthRoutes {
    static final String PREFIX = "/admin/auth/";
    static final String WHOAMI = PREFIX + "whoami";
    private static final String TOKENS = PREFIX + "tokens";
    private static final Set<String> CREATE_FIELDS = Set.of("name", "roles", "ttl");

    // Null when authentication is off.
    private final TokenAdmin tokens;

    AuthRoutes(TokenAdmin tokens, boolean enabled) {
        this.tokens = enabled ? tokens : null;
    }

    CompletableFuture<FullHttpResponse> handle(HttpCall call, Verdict.Allowed caller, EventLoop loop) {
        if (tokens == null || caller == null) {
            return NodeApi.done(Responses.error(ErrorCode.ROUTE_NOT_FOUND, "authentication is off on this node (auth.enabled=false)"));
        }
        String path = call.path();
        HttpMethod m = call.method();
        String who = NodeApi.who(caller);
        String from = String.valueOf(call.remote());
        if (path.equals(WHOAMI)) {
            requireMethod(m, HttpMethod.GET);
            NodeApi.requireParams(call, Set.of());
            Map<String, Object> me = new LinkedHashMap<>();
            me.put("id", caller.tokenId());
            me.put("name", caller.principal());
            me.put("roles", caller.token().roles().stream().map(Role::toString).toList());
            return NodeApi.done(Responses.json(HttpResponseStatus.OK, me));
        }
        if (path.equals(TOKENS) || path.equals(TOKENS + "/")) {
            if (m.equals(HttpMethod.GET)) {
                Map<String, String> params = NodeApi.requireParams(call, Set.of("after", "limit"));
                int limit = params.containsKey("limit") ? number(params.get("limit"), "limit") : 100;
                return ok(tokens.list(params.get("after"), limit, call.deadlineNanos()), HttpResponseStatus.OK, loop);
            }
            requireMethod(m, HttpMethod.POST, "GET, POST");
            NodeApi.requireParams(call, Set.of());
            NodeApi.requireJson(call, "a token request");
            return ok(tokens.create(createRequest(call.body()), who, from, call.deadlineNanos()), HttpResponseStatus.CREATED, loop);
        }
        if (path.startsWith(TOKENS + "/")) {
            String rest = path.substring(TOKENS.length() + 1);
            if (rest.endsWith("/rotate")) {
                requireMethod(m, HttpMethod.POST);
                Map<String, String> params = NodeApi.requireParams(call, Set.of("grace"));
                Duration grace = params.containsKey("grace") ? duration(params.get("grace"), "grace") : Duration.ZERO;
                return ok(tokens.rotate(rest.substring(0, rest.length() - "/rotate".length()), grace, who, from, call.deadlineNanos()),
                        HttpResponseStatus.CREATED, loop);
            }
            NodeApi.requireParams(call, Set.of());
            if (m.equals(HttpMethod.GET)) {
                return ok(tokens.show(rest, call.deadlineNanos()), HttpResponseStatus.OK, loop);
            }
            requireMethod(m, HttpMethod.DELETE, "GET, DELETE");
            return ok(tokens.revoke(rest, who, from, call.deadlineNanos()), HttpResponseStatus.OK, loop);
        }
        return NodeApi.done(Responses.error(ErrorCode.ROUTE_NOT_FOUND, "no route " + path + "; see docs/api.md"));
    }

    private static CompletableFuture<FullHttpResponse> ok(CompletableFuture<Map<String, Object>> answer, HttpResponseStatus status, EventLoop loop) {
        return NodeApi.rendered(answer, m -> Responses.json(status, m), loop);
    }

    /** Refuses any method but {@code allowed}; {@code allow} is what the 405 lists (methods handled before the call included). */
    private static void requireMethod(HttpMethod m, HttpMethod allowed) {
        requireMethod(m, allowed, allowed.name());
    }

    private static void requireMethod(HttpMethod m, HttpMethod allowed, String allow) {
        if (!m.equals(allowed)) {
            throw new CairnException(ErrorCode.METHOD_NOT_ALLOWED, "this route accepts " + allow);
        }
    }

    private static int number(String text, String name) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new CairnException(ErrorCode.INVALID_PARAMETER, name + " must be a number, got '" + text + "'");
        }
    }

    private static Duration duration(String text, String name) {
        try {
            return Units.duration(text, 1000);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new CairnException(ErrorCode.INVALID_PARAMETER, name + " " + e.getMessage());
        }
    }

    /** {@code {"name": "...", "roles": ["read:default", ...], "ttl": "30d"}}, ttl optional. */
    private static TokenAdmin.Create createRequest(byte[] body) {
        JsonNode root = BatchCodec.readStrict(body, AuthRoutes::malformed);
        if (root == null || !root.isObject()) {
            throw malformed("expected {\"name\": \"...\", \"roles\": [\"read:default\"], \"ttl\": \"30d\"}");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!CREATE_FIELDS.contains(f)) {
                throw malformed("unknown field '" + f + "'; a token has name, roles and ttl");
            }
        }
        JsonNode name = root.get("name");
        JsonNode roles = root.get("roles");
        JsonNode ttl = root.get("ttl");
        if (ttl != null && ttl.isNull()) {
            ttl = null; // As in every other body: an optional field set to null is absent.
        }
        if (name == null || !name.isTextual()) {
            throw malformed("name must be a string");
        }
        if (roles == null || !roles.isArray()) {
            throw malformed("roles must be an array of strings");
        }
        List<String> list = new ArrayList<>();
        for (JsonNode r : roles) {
            if (!r.isTextual()) {
                throw malformed("roles must be an array of strings");
            }
            list.add(r.asText());
        }
        if (ttl != null && !ttl.isTextual() && !ttl.isIntegralNumber()) {
            throw malformed("ttl must be a duration string such as \"30d\", or a whole number of seconds");
        }
        return new TokenAdmin.Create(name.asText(), list, ttl == null ? null : duration(ttl.asText(), "ttl"));
    }

    private static CairnException malformed(String message) {
        return new CairnException(ErrorCode.INVALID_PARAMETER, message);
    }
}
