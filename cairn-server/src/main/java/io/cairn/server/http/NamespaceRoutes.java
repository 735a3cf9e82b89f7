package io.cairn.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.auth.Verdict;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.namespace.Consistency;
import io.cairn.namespace.Namespace;
import io.cairn.namespace.NamespaceSpec;
import io.cairn.request.Op;
import io.cairn.placement.Quorum;
import io.cairn.server.security.AuditSink;
import io.cairn.server.metadata.MetadataUnavailableException;
import io.cairn.server.service.Namespaces;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

/**
 * {@code GET /admin/namespaces} lists the namespaces; {@code GET /admin/namespaces/{name}} shows
 * one; {@code PUT /admin/namespaces/{name}} with a JSON body creates it or changes its policy:
 *
 * <pre>{"consistency": "serial", "readQuorum": "quorum", "writeQuorum": "all", "defaultTtl": "30m", "maxValueBytes": 65536}</pre>
 *
 * Every field is optional (a field left out takes its default: quorum consistency, the cluster's
 * quorums, no TTL, the node's value limit); a PUT states the whole policy, so a field left out of a
 * change returns to its default. Unknown fields and wrong types are refused.
 */
final class NamespaceRoutes {
    static final String PATH = "/admin/namespaces";
    private static final Set<String> FIELDS = Set.of("consistency", "readQuorum", "writeQuorum", "defaultTtl", "maxValueBytes");

    // Null where only the default namespace is served.
    private final Namespaces namespaces;
    private final AuditSink audit;

    NamespaceRoutes(Namespaces namespaces, AuditSink audit) {
        this.namespaces = namespaces;
        this.audit = audit;
    }

    static boolean handles(String path) {
        return path.equals(PATH) || path.startsWith(PATH + "/");
    }

    CompletableFuture<FullHttpResponse> handle(HttpCall call, Verdict.Allowed caller) {
        NodeApi.requireParams(call, Set.of());
        if (namespaces == null) {
            return NodeApi.done(Responses.error(ErrorCode.ROUTE_NOT_FOUND, "this node serves the default namespace only"));
        }
        String name = call.path().length() > PATH.length() + 1 ? call.path().substring(PATH.length() + 1) : null;
        HttpMethod m = call.method();
        if (name == null) {
            if (!m.equals(HttpMethod.GET) && !m.equals(HttpMethod.HEAD)) {
                return NodeApi.done(NodeApi.methodNotAllowed("GET, HEAD"));
            }
            List<Object> all = new ArrayList<>();
            all.add(view(namespaces.defaultNamespace()));
            namespaces.list().forEach(spec -> all.add(view(spec)));
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("replicationFactor", namespaces.replicationFactor());
            body.put("namespaces", all);
            return NodeApi.done(Responses.json(HttpResponseStatus.OK, body));
        }
        if (m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD)) {
            Namespace ns = namespaces.resolve(name);
            return NodeApi.done(Responses.json(HttpResponseStatus.OK, ns.id() == Namespace.DEFAULT_ID ? view(ns)
                    : view(namespaces.list().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow())));
        }
        if (!m.equals(HttpMethod.PUT)) {
            return NodeApi.done(NodeApi.methodNotAllowed("GET, HEAD, PUT"));
        }
        Map<String, String> asked = Map.of("path", call.path(), "body", new String(call.body(), java.nio.charset.StandardCharsets.UTF_8));
        NamespaceSpec spec;
        try {
            if (name.equals(Namespace.DEFAULT_NAME) && !namespaces.setsDefaultPolicy()) {
                throw new CairnException(ErrorCode.INVALID_NAMESPACE, "the default namespace's policy is the node's settings (ttl.default,"
                        + " cluster.readQuorum, cluster.writeQuorum, limits.maxValueBytes); create a namespace for another policy");
            }
            NodeApi.requireJson(call, "a namespace's settings");
            spec = parse(name, call.body());
        } catch (CairnException e) {
            // Refused before it reached the log; audited like a refusal of the log's.
            audit.record("admin.namespace", "refused", NodeApi.who(caller), String.valueOf(call.remote()),
                    Map.of("path", call.path(), "reason", e.getMessage()));
            throw e;
        }
        return namespaces.put(spec).handle((kept, error) -> {
            Throwable cause = error instanceof CompletionException c && c.getCause() != null ? c.getCause() : error;
            if (cause == null) {
                audit.record("admin.namespace", "done", NodeApi.who(caller), String.valueOf(call.remote()), asked);
                return Responses.json(HttpResponseStatus.OK, view(kept));
            }
            if (cause instanceof CairnException e) {
                audit.record("admin.namespace", "refused", NodeApi.who(caller), String.valueOf(call.remote()),
                        Map.of("path", call.path(), "reason", e.getMessage()));
                return Responses.error(e);
            }
            audit.record("admin.namespace", "failed", NodeApi.who(caller), String.valueOf(call.remote()),
                    Map.of("path", call.path(), "reason", String.valueOf(cause)));
            if (cause instanceof TimeoutException) {
                return Responses.error(ErrorCode.NOT_READY, "the namespace is defined in the metadata log but this node has not applied it"
                        + " yet; the same PUT again answers once it has");
            }
            if (cause instanceof MetadataUnavailableException) {
                return Responses.error(ErrorCode.METADATA_UNAVAILABLE, cause.getMessage() + "; namespace changes wait for the metadata log's"
                        + " majority (data keeps being served)");
            }
            return Responses.error(ErrorCode.INTERNAL, "the namespace change failed: " + cause);
        });
    }

    /** The body of a PUT, checked field by field; the guardrails are the core's ({@link NamespaceSpec#problem}). */
    static NamespaceSpec parse(String name, byte[] body) {
        // A PUT states the whole policy, so an empty body is refused rather than read as "every default" (which would
        // silently turn a serial namespace back to quorum); {} asks for the defaults explicitly.
        JsonNode root = body.length == 0 ? null
                : BatchCodec.readStrict(body, reason -> new CairnException(ErrorCode.INVALID_NAMESPACE, reason));
        if (root == null || !root.isObject()) {
            throw new CairnException(ErrorCode.INVALID_NAMESPACE, "the body must be one JSON object such as {\"consistency\": \"serial\"}"
                    + " ({} for every default)");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FIELDS.contains(field)) {
                throw new CairnException(ErrorCode.INVALID_NAMESPACE, "unknown field '" + field + "'; a namespace takes " + FIELDS);
            }
        }
        Consistency consistency = Consistency.QUORUM;
        String text = text(root, "consistency");
        if (text != null) {
            try {
                consistency = Consistency.parse(text);
            } catch (IllegalArgumentException e) {
                throw new CairnException(ErrorCode.INVALID_NAMESPACE, e.getMessage());
            }
        }
        long ttl = 0;
        JsonNode ttlNode = root.get("defaultTtl");
        boolean seconds = ttlNode != null && ttlNode.isNumber();
        String ttlText = seconds ? null : text(root, "defaultTtl");
        if (seconds || ttlText != null) {
            long parsed;
            try {
                parsed = seconds ? Ttls.parseSeconds(ttlNode) : Ttls.parse(ttlText);
            } catch (CairnException e) {
                throw new CairnException(ErrorCode.INVALID_NAMESPACE, "defaultTtl: " + e.getMessage());
            }
            ttl = parsed == Op.DEFAULT_TTL ? 0 : parsed;
        }
        long maxValue = 0;
        JsonNode limit = root.get("maxValueBytes");
        if (limit != null && !limit.isNull()) {
            if (!limit.canConvertToLong() || !limit.isIntegralNumber() || limit.asLong() < 0) {
                throw new CairnException(ErrorCode.INVALID_NAMESPACE, "maxValueBytes must be a whole number of bytes, 0 or more (0: the node's limit)");
            }
            maxValue = limit.asLong();
        }
        NamespaceSpec spec = new NamespaceSpec(0, name, consistency, quorum(root, "readQuorum"), quorum(root, "writeQuorum"), ttl, maxValue);
        if (!Namespace.validName(name)) {
            throw new CairnException(ErrorCode.INVALID_NAMESPACE, "a namespace name must match " + Namespace.namePattern() + ", got '" + name + "'");
        }
        return spec;
    }

    private static String text(JsonNode root, String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new CairnException(ErrorCode.INVALID_NAMESPACE, field.equals("defaultTtl")
                    ? "defaultTtl must be a duration string such as \"30m\", \"none\", or a number of seconds"
                    : field + " must be a string");
        }
        return v.asText();
    }

    private static Quorum quorum(JsonNode root, String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual() && !v.isIntegralNumber()) {
            throw new CairnException(ErrorCode.INVALID_NAMESPACE, field + " must be one, quorum, all or a number");
        }
        try {
            return Quorum.parse(v.asText());
        } catch (IllegalArgumentException e) {
            throw new CairnException(ErrorCode.INVALID_NAMESPACE, field + " " + e.getMessage());
        }
    }

    private static Map<String, Object> view(NamespaceSpec s) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("name", s.name());
        v.put("id", s.id());
        v.put("consistency", s.consistency().label());
        v.put("readQuorum", s.readQuorum() == null ? null : s.readQuorum().toString());
        v.put("writeQuorum", s.writeQuorum() == null ? null : s.writeQuorum().toString());
        v.put("defaultTtlMillis", s.defaultTtlMillis());
        v.put("maxValueBytes", s.maxValueBytes());
        v.put("path", s.name().equals(Namespace.DEFAULT_NAME) ? "/kv/" : "/ns/" + s.name() + "/kv/");
        if (s.name().equals(Namespace.DEFAULT_NAME)) {
            v.put("builtIn", true);
        }
        return v;
    }

    private static Map<String, Object> view(Namespace ns) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("name", ns.name());
        v.put("id", ns.id());
        v.put("consistency", ns.consistency().label());
        // Null: the node's cluster.readQuorum / cluster.writeQuorum (a policy set for it names its own).
        v.put("readQuorum", ns.defaultRead() == null ? null : ns.defaultRead().toString());
        v.put("writeQuorum", ns.defaultWrite() == null ? null : ns.defaultWrite().toString());
        v.put("defaultTtlMillis", ns.defaultTtlMillis());
        v.put("maxValueBytes", ns.maxValueBytes());
        v.put("path", "/kv/");
        v.put("builtIn", true);
        return v;
    }
}
