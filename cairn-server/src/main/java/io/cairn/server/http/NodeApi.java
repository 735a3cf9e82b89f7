package io.cairn.server.http;

import io.cairn.auth.Need;
import io.cairn.auth.Right;
import io.cairn.auth.Verdict;
import io.cairn.error.CairnException;
import io.cairn.namespace.Namespace;
import io.cairn.server.security.Authenticator;
import io.cairn.server.security.TokenAdmin;
import io.cairn.error.ErrorCode;
import io.cairn.invariant.Invariant;
import io.cairn.request.IdempotencyTag;
import io.cairn.placement.Quorum;
import io.cairn.record.Record;
import io.cairn.request.Answer;
import io.cairn.request.Condition;
import io.cairn.request.Limits;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.request.WriteOutcome;
import io.cairn.server.metrics.NodeMetrics;
import io.cairn.server.security.AuditSink;
import io.cairn.server.service.ClusterAdmin;
import io.cairn.server.service.MembershipAdmin;
import io.cairn.server.service.KvService;
import io.cairn.server.service.NamespacedService;
import io.cairn.server.service.Namespaces;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The HTTP API: routes, the translation of HTTP into the internal request model and back, and
 * the operational endpoints. Every key-value request goes to the {@link KvService} — the same on
 * a single node and on a cluster — where all policy lives (conditions, TTL, idempotency, quorums,
 * per-key order in a batch, deadlines); this class only parses, validates early, and renders.
 *
 * <p>On a replicated service the routes also take quorums ({@code r}, {@code w} as query
 * parameters or {@code Cairn-Read-Quorum} / {@code Cairn-Write-Quorum} headers, which must agree
 * when both are given) and answers say how many replicas took part ({@code Cairn-Acks},
 * {@code Cairn-Fallback-Acks}, {@code Cairn-Replies}). Responses are rendered on the connection's
 * event loop, never on the thread that completed the request.
 */
public final class NodeApi implements Api {
    public static final String TTL_HEADER = "Cairn-TTL";
    public static final String EXPIRES_HEADER = "Cairn-Expires-At";
    public static final String IDEMPOTENCY_HEADER = "Idempotency-Key";
    public static final String REPLAYED_HEADER = "Idempotent-Replayed";
    public static final String RECORDED_HEADER = "Idempotent-Recorded";
    public static final String ACKS_HEADER = "Cairn-Acks";
    public static final String FALLBACK_ACKS_HEADER = "Cairn-Fallback-Acks";
    public static final String REPLIES_HEADER = "Cairn-Replies";
    public static final String R_HEADER = "Cairn-Read-Quorum";
    /** A write's causal token: the ETag of the last write the client saw; the write is stamped newer. */
    public static final String AFTER_HEADER = "Cairn-After";
    /** Asks a read for {@code serial} (linearizable) or {@code quorum} consistency, like {@code ?consistency=}. */
    public static final String CONSISTENCY_HEADER = "Cairn-Consistency";
    public static final String W_HEADER = "Cairn-Write-Quorum";
    private static final String KV = "/kv";
    private static final String KV_PREFIX = "/kv/";
    private static final String BATCH_SEGMENT = "_batch";
    private static final HttpMethod BATCH = HttpMethod.valueOf("BATCH");
    private static final long SMALL_BODY = 64 * 1024;
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", java.util.Locale.US).withZone(ZoneOffset.UTC);

    private final Limits limits;
    private final KvService service;
    // Null on a single node.
    private final ClusterAdmin admin;
    private final NodeMetrics metrics;
    private final long idempotencyRetentionMillis;
    // Each carries its own verdict ("ready": true; "status": "ok"), which the status code follows.
    private final Supplier<Map<String, Object>> readiness;
    private final Supplier<Map<String, Object>> liveness;
    private final Supplier<Map<String, Object>> status;

    private final AuditSink audit;
    // Null when authentication is off (auth.enabled=false).
    private final Authenticator authenticator;
    private final AuthRoutes authRoutes;
    private final boolean metricsOpen;

    private final MembershipRoutes membershipRoutes;
    // Null where the node serves the default namespace only (tests of the HTTP layer alone).
    private final NamespacedService namespaced;
    private final Namespaces namespaces;
    private final NamespaceRoutes namespaceRoutes;

    public NodeApi(Limits limits, KvService service, ClusterAdmin admin, NodeMetrics metrics, Duration idempotencyRetention,
                   Supplier<Map<String, Object>> readiness,
                   Supplier<Map<String, Object>> liveness, Supplier<Map<String, Object>> status, AuditSink audit,
                   Authenticator authenticator, TokenAdmin tokens, boolean metricsOpen) {
        this(limits, service, admin, metrics, idempotencyRetention, readiness, liveness, status, audit, authenticator, tokens,
                metricsOpen, null, null, null);
    }

    /**
     * @param membership the admin side of an elastic cluster, or null (a single node, or a fixed cluster)
     * @param namespaced the service over every namespace, and {@code namespaces} the ones clients
     *                   address; both null where only the default namespace is served
     */
    public NodeApi(Limits limits, KvService service, ClusterAdmin admin, NodeMetrics metrics, Duration idempotencyRetention,
                   Supplier<Map<String, Object>> readiness,
                   Supplier<Map<String, Object>> liveness, Supplier<Map<String, Object>> status, AuditSink audit,
                   Authenticator authenticator, TokenAdmin tokens, boolean metricsOpen, MembershipAdmin membership,
                   NamespacedService namespaced, Namespaces namespaces) {
        this.membershipRoutes = new MembershipRoutes(membership, audit, admin != null);
        this.namespaced = namespaced;
        this.namespaces = namespaces;
        this.namespaceRoutes = new NamespaceRoutes(namespaces, audit);
        this.authenticator = authenticator;
        this.authRoutes = new AuthRoutes(tokens, authenticator != null);
        this.metricsOpen = metricsOpen;
        this.limits = limits;
        this.audit = audit;
        this.service = service;
        this.admin = admin;
        this.metrics = metrics;
        this.idempotencyRetentionMillis = idempotencyRetention.toMillis();
        this.readiness = readiness;
        this.liveness = liveness;
        this.status = status;
    }

    @Override
    public BodyLimit bodyLimit(HttpMethod method, String path) {
        if (method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD) || method.equals(HttpMethod.DELETE)) {
            // No route reads one: taken silently, a body the client thinks means something (a
            // condition, a value to delete) would be ignored.
            return new BodyLimit(0, ErrorCode.MALFORMED_REQUEST, "body of a " + method.name() + " request (GET, HEAD and DELETE take none)");
        }
        Target t = target(path);
        if (t != null && isBatch(method, t.kvPath())) {
            return new BodyLimit(limits.maxBatchBodyBytes(), ErrorCode.BODY_TOO_LARGE, "batch body");
        }
        if (t != null && method.equals(HttpMethod.PUT) && t.kvPath().startsWith(KV_PREFIX)) {
            return new BodyLimit(limits.maxValueBytes(), ErrorCode.VALUE_TOO_LARGE, "value");
        }
        return new BodyLimit(SMALL_BODY, ErrorCode.BODY_TOO_LARGE, "request body");
    }

    private static boolean isBatch(HttpMethod method, String path) {
        return (method.equals(BATCH) && (path.equals(KV) || path.equals(KV_PREFIX)))
                || (method.equals(HttpMethod.POST) && path.equals(KV_PREFIX + BATCH_SEGMENT));
    }

    @Override
    public String operation(HttpCall call) {
        String path = call.path();
        Target t = target(path);
        if (t != null) {
            if (isBatch(call.method(), t.kvPath())) {
                return "batch";
            }
            HttpMethod m = call.method();
            // A fixed set of values: a client's made-up method must not grow the metric's label set.
            return m.equals(HttpMethod.GET) ? "get" : m.equals(HttpMethod.HEAD) ? "head" : m.equals(HttpMethod.PUT) ? "put"
                    : m.equals(HttpMethod.DELETE) ? "delete" : "kv_other";
        }
        return switch (path) {
            case "/health" -> "health";
            case "/ready" -> "ready";
            case "/livez" -> "livez";
            case "/readyz" -> "readyz";
            case "/metrics" -> "metrics";
            case OPENAPI -> "openapi";
            default -> {
                if (path.startsWith(AuthRoutes.PREFIX)) {
                    yield "admin_auth";
                }
                if (path.startsWith("/admin/")) {
                    String rest = path.substring("/admin/".length());
                    String first = rest.contains("/") ? rest.substring(0, rest.indexOf('/')) : rest;
                    yield ADMIN_ROUTES.contains(first) ? "admin_" + first.replace('-', '_') : "admin_other";
                }
                yield "other";
            }
        };
    }

    /** The admin routes counted under their own {@code op} label ({@code admin_status}, ...). */
    static final Set<String> ADMIN_ROUTES = Set.of("status", "cluster", "faults", "repair", "partitions", "keys", "membership",
            "rebalance", "what-if", "namespaces");

    @Override
    public CompletableFuture<Supplier<FullHttpResponse>> screen(HttpMethod method, String path, HttpHeaders headers, java.net.SocketAddress remote) {
        Need need = authenticator == null ? null : need(method, path);
        if (need == null) {
            return null;
        }
        return authenticator.screen(authorization(headers), need, remote).thenApply(r -> r == null ? null : () -> refusal(r.get()));
    }

    @Override
    public CompletableFuture<FullHttpResponse> handle(HttpCall call, EventLoop loop) {
        try {
            Need need = authenticator == null ? null : need(call.method(), call.path());
            if (need == null) {
                return route(call, loop, null);
            }
            CompletableFuture<Verdict> verdict = authenticator.authorize(authorization(call.headers()), need, call.remote());
            if (verdict.isDone()) {
                return authorized(call, loop, verdict.join());
            }
            return verdict.thenComposeAsync(v -> authorized(call, loop, v), loop).exceptionally(NodeApi::failure);
        } catch (CairnException e) {
            return done(Responses.error(e));
        }
    }

    private CompletableFuture<FullHttpResponse> authorized(HttpCall call, EventLoop loop, Verdict verdict) {
        try {
            return switch (verdict) {
                case Verdict.Refused r -> done(refusal(r));
                case Verdict.Allowed a -> route(call, loop, a);
            };
        } catch (CairnException e) {
            return done(Responses.error(e));
        }
    }

    /** Every Authorization header the request sent (the rule wants exactly one). */
    private static List<String> authorization(HttpHeaders headers) {
        return headers.getAll(HttpHeaderNames.AUTHORIZATION);
    }

    private static FullHttpResponse refusal(Verdict.Refused r) {
        FullHttpResponse response = Responses.error(r.code(), r.message());
        if (r.code() == ErrorCode.UNAUTHENTICATED) {
            response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"cairn\"");
        }
        return response;
    }

    /**
     * What a route needs of its caller, or null for the open ones: {@code /health} and
     * {@code /ready} always, {@code /metrics} when {@code auth.metricsOpen}. A batch first needs
     * read; once parsed, a batch that writes needs write too.
     */
    private Need need(HttpMethod m, String path) {
        if (PROBE_ROUTES.contains(path) || path.equals(OPENAPI) || (metricsOpen && path.equals("/metrics"))) {
            return null;
        }
        if (path.equals("/metrics")) {
            return Need.METRICS;
        }
        Target t = target(path);
        if (t != null && (isBatch(m, t.kvPath()) || t.kvPath().equals(KV) || t.kvPath().equals(KV_PREFIX))) {
            return Need.data(t.namespace(), Right.READ);
        }
        if (t != null) {
            return Need.data(t.namespace(), m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD) ? Right.READ : Right.WRITE);
        }
        if (path.equals(AuthRoutes.WHOAMI)) {
            return Need.ANY;
        }
        if (path.startsWith("/admin/")) {
            return Need.ADMIN;
        }
        return Need.ANY;
    }

    private static final Set<String> PROBE_ROUTES = Set.of("/health", "/ready", "/livez", "/readyz");
    /** The OpenAPI description of this API (open: it is documentation). */
    static final String OPENAPI = "/openapi.json";
    private static volatile byte[] openApi;

    /** The description shipped in the jar ({@code openapi.json} beside this class), read once. */
    static byte[] openApi() {
        byte[] doc = openApi;
        if (doc == null) {
            try (java.io.InputStream in = NodeApi.class.getResourceAsStream("openapi.json")) {
                if (in == null) {
                    throw new CairnException(ErrorCode.INTERNAL, "openapi.json is missing from the build");
                }
                doc = in.readAllBytes();
            } catch (java.io.IOException e) {
                throw new CairnException(ErrorCode.INTERNAL, "cannot read openapi.json: " + e.getMessage());
            }
            openApi = doc;
        }
        return doc;
    }

    private CompletableFuture<FullHttpResponse> route(HttpCall call, EventLoop loop, Verdict.Allowed caller) {
        String path = call.path();
        HttpMethod m = call.method();
        Target t = target(path);
        if (t != null) {
            Kv kv = kv(t);
            String kvPath = t.kvPath();
            if (isBatch(m, kvPath)) {
                return batch(call, kv, loop, caller);
            }
            if (kvPath.equals(KV) || kvPath.equals(KV_PREFIX)) {
                return done(methodNotAllowed("BATCH"));
            }
            if (m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD)) {
                return get(call, kv, loop);
            }
            if (m.equals(HttpMethod.PUT)) {
                return put(call, kv, loop);
            }
            if (m.equals(HttpMethod.DELETE)) {
                return delete(call, kv, loop);
            }
            return done(methodNotAllowed("GET, HEAD, PUT, DELETE" + (kvPath.equals(KV_PREFIX + BATCH_SEGMENT) ? ", POST" : "")));
        }
        if (call.headers().contains(IDEMPOTENCY_HEADER)) {
            // Only data writes keep an idempotency record: a retried admin change (a token created
            // twice) would not be protected, so the header is refused rather than ignored.
            throw new CairnException(ErrorCode.INVALID_HEADER, IDEMPOTENCY_HEADER + " applies to writes under /kv and /ns/{namespace}/kv only");
        }
        if (path.startsWith(AuthRoutes.PREFIX)) {
            return authRoutes.handle(call, caller, loop);
        }
        if (NamespaceRoutes.handles(path)) {
            return namespaceRoutes.handle(call, caller);
        }
        if (MembershipRoutes.handles(path)) {
            return membershipRoutes.handle(call, caller);
        }
        return switch (path) {
            case "/health" -> readOnly(call, () -> reading(liveness.get(), NodeApi::live));
            case "/ready" -> readOnly(call, () -> reading(readiness.get(), NodeApi::ready));
            case OPENAPI -> readOnly(call, () -> Responses.bytes(HttpResponseStatus.OK, openApi(), Responses.APPLICATION_JSON));
            case "/livez" -> probe(call, liveness, NodeApi::live);
            case "/readyz" -> probe(call, readiness, NodeApi::ready);
            case "/metrics" -> readOnly(call, () -> Responses.bytes(HttpResponseStatus.OK, metrics.scrape().getBytes(StandardCharsets.UTF_8),
                    "text/plain; version=0.0.4; charset=utf-8"));
            // The status waits (briefly) for every core shard's fresh snapshot: not on an event loop.
            case "/admin/status" -> readOnly(call, () -> Responses.json(HttpResponseStatus.OK, status.get()), true);
            case "/admin/cluster" -> {
                requireParams(call, Set.of());
                yield clusterAdmin(call, () -> admin.clusterView());
            }
            case "/admin/faults" -> faults(call, caller);
            case "/admin/repair" -> repair(call, caller);
            default -> {
                if (path.startsWith("/admin/partitions/")) {
                    requireParams(call, Set.of());
                    yield clusterAdmin(call, () -> partitionView(path.substring("/admin/partitions/".length())));
                }
                if (path.startsWith("/admin/keys/")) {
                    String namespace = requireParams(call, Set.of("namespace")).get("namespace");
                    yield clusterAdmin(call, () -> admin.keyView(namespace,
                            KeyCodec.decodeKey(path.substring("/admin/keys/".length()), limits.maxKeyBytes())));
                }
                yield done(Responses.error(ErrorCode.ROUTE_NOT_FOUND, "no route " + path + "; see docs/api.md"));
            }
        };
    }

    /**
     * A probe's answer from one reading of its details: the status follows the body's own verdict,
     * since a second reading (readiness can change between two) could contradict it.
     */
    private static FullHttpResponse reading(Map<String, Object> details, Predicate<Map<String, Object>> verdict) {
        return Responses.json(verdict.test(details) ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, details);
    }

    private static boolean ready(Map<String, Object> readiness) {
        return Boolean.TRUE.equals(readiness.get("ready"));
    }

    private static boolean live(Map<String, Object> liveness) {
        return "ok".equals(liveness.get("status"));
    }

    /**
     * {@code /livez} and {@code /readyz}, as Kubernetes probes expect them: {@code ok} or
     * {@code failed} as text with 200 or 503; with {@code ?verbose} the same JSON as
     * {@code /health} and {@code /ready} (which checks passed, which did not and why).
     */
    private CompletableFuture<FullHttpResponse> probe(HttpCall call, Supplier<Map<String, Object>> details, Predicate<Map<String, Object>> verdict) {
        if (!call.method().equals(HttpMethod.GET) && !call.method().equals(HttpMethod.HEAD)) {
            return done(methodNotAllowed("GET, HEAD"));
        }
        Map<String, String> params = requireParams(call, Set.of("verbose"));
        if (params.containsKey("verbose")) {
            return done(reading(details.get(), verdict));
        }
        boolean ok = verdict.test(details.get());
        HttpResponseStatus status = ok ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE;
        return done(Responses.bytes(status, (ok ? "ok\n" : "failed\n").getBytes(StandardCharsets.US_ASCII), "text/plain; charset=utf-8"));
    }

    private CompletableFuture<FullHttpResponse> clusterAdmin(HttpCall call, Supplier<CompletableFuture<Map<String, Object>>> view) {
        if (!call.method().equals(HttpMethod.GET) && !call.method().equals(HttpMethod.HEAD)) {
            return done(methodNotAllowed("GET, HEAD"));
        }
        if (admin == null) {
            return done(Responses.error(ErrorCode.ROUTE_NOT_FOUND, "this node is not part of a cluster (no cluster.members configured)"));
        }
        return view.get().thenApply(m -> m == null
                ? Responses.error(ErrorCode.ROUTE_NOT_FOUND, "no such partition")
                : Responses.json(HttpResponseStatus.OK, m));
    }

    /**
     * {@code GET /admin/faults} shows the peers this node's transport is cut from and its disk
     * delay; {@code POST /admin/faults?block=2,3} cuts exactly those ({@code block=} heals),
     * {@code diskDelay=300ms} slows every disk operation ({@code 0} restores it). Test clusters only.
     */
    /** The caller as the audit log names it: its token's name and id, or null when authentication is off. */
    static String who(Verdict.Allowed caller) {
        return caller == null ? null : caller.principal() + " (token " + caller.tokenId() + ")";
    }

    private CompletableFuture<FullHttpResponse> faults(HttpCall call, Verdict.Allowed caller) {
        if (!call.method().equals(HttpMethod.POST)) {
            return changeFaults(call);
        }
        Map<String, String> asked = Map.of("query", call.query());
        try {
            CompletableFuture<FullHttpResponse> done = changeFaults(call);
            audit.record("admin.faults", "done", who(caller), String.valueOf(call.remote()), asked);
            return done;
        } catch (CairnException e) {
            audit.record("admin.faults", "refused", who(caller), String.valueOf(call.remote()), Map.of("query", call.query(), "reason", e.getMessage()));
            throw e;
        }
    }

    private CompletableFuture<FullHttpResponse> changeFaults(HttpCall call) {
        boolean post = call.method().equals(HttpMethod.POST);
        if (!post && !call.method().equals(HttpMethod.GET)) {
            return done(methodNotAllowed("GET, POST"));
        }
        if (admin == null) {
            return done(Responses.error(ErrorCode.ROUTE_NOT_FOUND, "this node is not part of a cluster (no cluster.members configured)"));
        }
        // Changes nothing; a node without fault injection answers 404 whatever the parameters.
        Map<String, Object> now = admin.faults(null, null, null);
        Map<String, String> params = requireParams(call, post ? Set.of("block", "diskDelay", "metadata") : Set.of());
        if (!post) {
            return done(Responses.json(HttpResponseStatus.OK, now));
        }
        Set<Integer> block = null;
        Long diskDelay = null;
        if (!params.containsKey("block") && !params.containsKey("diskDelay") && !params.containsKey("metadata")) {
            throw new CairnException(ErrorCode.INVALID_PARAMETER, "block (a comma-separated list of peer ids, empty to heal), diskDelay"
                    + " (a duration, 0 to restore) or metadata (cut or heal) is required");
        }
        Boolean metadataCut = null;
        if (params.containsKey("metadata")) {
            metadataCut = switch (params.get("metadata")) {
                case "cut" -> true;
                case "heal" -> false;
                default -> throw new CairnException(ErrorCode.INVALID_PARAMETER, "metadata must be cut or heal, got '" + params.get("metadata") + "'");
            };
        }
        if (params.containsKey("diskDelay")) {
            try {
                diskDelay = io.cairn.server.config.Units.duration(params.get("diskDelay"), 1).toMillis();
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new CairnException(ErrorCode.INVALID_PARAMETER, "diskDelay " + e.getMessage());
            }
            if (diskDelay < 0 || diskDelay > 60_000) {
                throw new CairnException(ErrorCode.INVALID_PARAMETER, "diskDelay must be between 0 and 60s");
            }
        }
        if (params.containsKey("block")) {
            String list = params.get("block");
            block = new java.util.TreeSet<>();
            for (String id : list.split(",")) {
                if (id.isBlank()) {
                    continue;
                }
                try {
                    block.add(Integer.parseInt(id.trim()));
                } catch (NumberFormatException e) {
                    throw new CairnException(ErrorCode.INVALID_PARAMETER, "block: '" + id + "' is not a node id");
                }
            }
        }
        return done(Responses.json(HttpResponseStatus.OK, admin.faults(block, diskDelay, metadataCut)));
    }

    /**
     * {@code GET /admin/repair[?namespace=N][&partition=P][&all=true]}: the repair backlog;
     * {@code POST /admin/repair[?namespace=N][&partition=P]}: exchange those partitions now.
     */
    private CompletableFuture<FullHttpResponse> repair(HttpCall call, Verdict.Allowed caller) {
        boolean post = call.method().equals(HttpMethod.POST);
        if (!post && !call.method().equals(HttpMethod.GET) && !call.method().equals(HttpMethod.HEAD)) {
            return done(methodNotAllowed("GET, HEAD, POST"));
        }
        if (admin == null) {
            return done(Responses.error(ErrorCode.ROUTE_NOT_FOUND,
                    "this node is not part of a cluster (no cluster.members configured): it has no replicas to repair from; the scrub's figures are in /admin/status"));
        }
        Map<String, String> params = requireParams(call, post ? Set.of("namespace", "partition") : Set.of("namespace", "partition", "all"));
        String ns = params.get("namespace");
        Integer partition = null;
        if (params.containsKey("partition")) {
            try {
                partition = Integer.parseInt(params.get("partition"));
            } catch (NumberFormatException e) {
                throw new CairnException(ErrorCode.INVALID_PARAMETER, "partition must be a number, got '" + params.get("partition") + "'");
            }
        }
        if (!post) {
            String all = params.getOrDefault("all", "false");
            if (!all.equals("true") && !all.equals("false")) {
                throw new CairnException(ErrorCode.INVALID_PARAMETER, "all must be true or false, got '" + all + "'");
            }
            return admin.repairView(ns, partition, all.equals("true")).thenApply(m -> Responses.json(HttpResponseStatus.OK, m));
        }
        Map<String, String> asked = Map.of("query", call.query());
        try {
            CompletableFuture<Map<String, Object>> queued = admin.repairNow(ns, partition);
            audit.record("admin.repair", "done", who(caller), String.valueOf(call.remote()), asked);
            return queued.thenApply(m -> Responses.json(HttpResponseStatus.ACCEPTED, m));
        } catch (CairnException e) {
            audit.record("admin.repair", "refused", who(caller), String.valueOf(call.remote()), Map.of("query", call.query(), "reason", e.getMessage()));
            throw e;
        }
    }

    private CompletableFuture<Map<String, Object>> partitionView(String text) {
        int p;
        try {
            p = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new CairnException(ErrorCode.INVALID_PARAMETER, "partition id must be a number, got '" + text + "'");
        }
        return admin.partitionView(p);
    }

    private CompletableFuture<FullHttpResponse> readOnly(HttpCall call, Supplier<FullHttpResponse> handler) {
        return readOnly(call, handler, false);
    }

    /** A GET/HEAD-only route; {@code waits}: its handler may wait on other threads, so it runs off the event loop. */
    private CompletableFuture<FullHttpResponse> readOnly(HttpCall call, Supplier<FullHttpResponse> handler, boolean waits) {
        if (!call.method().equals(HttpMethod.GET) && !call.method().equals(HttpMethod.HEAD)) {
            return done(methodNotAllowed("GET, HEAD"));
        }
        return waits ? offEventLoop(handler) : done(handler.get());
    }

    /**
     * Runs a view that waits on other threads (say, each core shard's snapshot, at most a few
     * hundred ms on a busy core) on a virtual thread of its own, so the event loop that took the
     * request goes on serving its other connections meanwhile. How many run at once is bounded by
     * the requests admitted, like every other request.
     */
    static CompletableFuture<FullHttpResponse> offEventLoop(Supplier<FullHttpResponse> view) {
        return CompletableFuture.supplyAsync(view, VIEWS);
    }

    private static final java.util.concurrent.Executor VIEWS = task -> Thread.ofVirtual().name("cairn-admin-view").start(task);

    static FullHttpResponse methodNotAllowed(String allow) {
        FullHttpResponse r = Responses.error(ErrorCode.METHOD_NOT_ALLOWED, "this route accepts " + allow);
        r.headers().set(HttpHeaderNames.ALLOW, allow);
        return r;
    }

    // ---- GET / HEAD ----

    private CompletableFuture<FullHttpResponse> get(HttpCall call, Kv kv, EventLoop loop) {
        byte[] key = key(kv);
        refuseHeaders(call, "a read", List.of(TTL_HEADER, W_HEADER, AFTER_HEADER, IDEMPOTENCY_HEADER));
        refuseUnmodifiedSince(call);
        Map<String, String> params = requireParams(call, Set.of("r", "consistency"));
        Quorum r = quorum(call, params, "r", R_HEADER);
        boolean serial = serial(call, params);
        if (serial && r != null) {
            throw new CairnException(ErrorCode.INVALID_PARAMETER, "a serial read takes no read quorum: it reads a majority of the key's replicas");
        }
        Etags.Match ifNoneMatch = header(call.headers(), HttpHeaderNames.IF_NONE_MATCH.toString()) == null ? null
                : Etags.parse(call.headers().get(HttpHeaderNames.IF_NONE_MATCH), "If-None-Match", true);
        // If-Modified-Since counts only without If-None-Match, and an invalid date is ignored (RFC 9110 §13.1.3).
        Instant modifiedSince = ifNoneMatch == null ? httpDate(header(call.headers(), HttpHeaderNames.IF_MODIFIED_SINCE.toString())) : null;
        Etags.Match ifMatch = header(call.headers(), HttpHeaderNames.IF_MATCH.toString()) == null ? null
                : Etags.parse(call.headers().get(HttpHeaderNames.IF_MATCH), "If-Match");
        if (ifMatch != null && ifNoneMatch != null) {
            throw new CairnException(ErrorCode.INVALID_HEADER, "If-Match and If-None-Match cannot be combined");
        }
        CompletableFuture<Answer> read = serial ? kv.service().serialRead(key, call.deadlineNanos()) : kv.service().read(key, r, call.deadlineNanos());
        return rendered(read, answer -> {
            FullHttpResponse response = switch (answer.result()) {
                // A read's If-Match (RFC 9110, 13.1.1): the value only while it is still the version named.
                case OpResult.Found f when ifMatch != null && !ifMatch.matches(f.record().version()) ->
                        single(new OpResult.PreconditionFailed(f.record().version()));
                case OpResult.NotFound nf when ifMatch != null -> single(new OpResult.PreconditionFailed(null));
                case OpResult.Found f when modifiedSince != null && !f.record().version().instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).isAfter(modifiedSince) -> {
                    FullHttpResponse notModified = Responses.empty(HttpResponseStatus.NOT_MODIFIED);
                    describe(notModified.headers(), f.record());
                    yield notModified;
                }
                case OpResult.Found f -> found(f.record(), ifNoneMatch);
                case OpResult.NotFound nf -> notFound();
                case OpResult.Failed f -> Responses.error(f.code(), f.message(), f.details());
                default -> throw new IllegalStateException("a read answered " + answer.result());
            };
            if (service.replicated() && !(answer.result() instanceof OpResult.Failed)) {
                response.headers().set(REPLIES_HEADER, answer.replies());
            }
            return response;
        }, loop);
    }

    /** An HTTP-date's instant, or null when {@code text} is absent or not one (RFC 9110 has such a date ignored). */
    private static Instant httpDate(String text) {
        if (text == null) {
            return null;
        }
        try {
            return java.time.ZonedDateTime.parse(text.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        } catch (java.time.format.DateTimeParseException e) {
            return null;
        }
    }

    /** 200 with the value, or 304 when If-None-Match names the current version. */
    static FullHttpResponse found(Record r, Etags.Match ifNoneMatch) {
        FullHttpResponse resp = ifNoneMatch != null && ifNoneMatch.matches(r.version())
                ? Responses.empty(HttpResponseStatus.NOT_MODIFIED)
                : Responses.bytes(HttpResponseStatus.OK, r.value(), ContentTypes.served(r.contentType()));
        describe(resp.headers(), r);
        return resp;
    }

    static FullHttpResponse notFound() {
        return Responses.error(ErrorCode.KEY_NOT_FOUND, "no live value for this key (never written, deleted, or expired)");
    }

    static void describe(HttpHeaders h, Record r) {
        h.set(HttpHeaderNames.ETAG, Etags.of(r.version()));
        h.set(HttpHeaderNames.LAST_MODIFIED, HTTP_DATE.format(r.version().instant()));
        if (r.hasExpiry()) {
            h.set(EXPIRES_HEADER, Instant.ofEpochMilli(r.expiresAtMillis()).toString());
        }
    }

    // ---- PUT / DELETE ----

    private CompletableFuture<FullHttpResponse> put(HttpCall call, Kv kv, EventLoop loop) {
        byte[] key = key(kv);
        refuseHeaders(call, "a write", List.of(R_HEADER, CONSISTENCY_HEADER, HttpHeaderNames.IF_MODIFIED_SINCE.toString()));
        refuseUnmodifiedSince(call);
        Map<String, String> params = requireParams(call, Set.of("ttl", "w"));
        String ttlText = params.get("ttl");
        String ttlHeader = header(call.headers(), TTL_HEADER);
        long ttl = Ttls.parse(ttlText != null ? ttlText : ttlHeader);
        if (ttlText != null && ttlHeader != null && Ttls.parse(ttlHeader) != ttl) {
            throw new CairnException(ErrorCode.INVALID_TTL, "the ttl query parameter and the " + TTL_HEADER + " header disagree");
        }
        if (call.body().length > limits.maxValueBytes()) {
            throw new CairnException(ErrorCode.VALUE_TOO_LARGE, "the value is " + call.body().length + " bytes; the limit is " + limits.maxValueBytes());
        }
        String contentType = ContentTypes.checked(header(call.headers(), HttpHeaderNames.CONTENT_TYPE.toString()), "Content-Type",
                reason -> new CairnException(ErrorCode.INVALID_HEADER, reason));
        Condition condition = condition(call.headers(), true);
        Op.Put op = new Op.Put(key, call.body(), contentType, ttl, condition);
        return write(call, kv, List.of(op), params, false, loop);
    }

    private CompletableFuture<FullHttpResponse> delete(HttpCall call, Kv kv, EventLoop loop) {
        byte[] key = key(kv);
        refuseHeaders(call, "a delete", List.of(R_HEADER, CONSISTENCY_HEADER, TTL_HEADER, HttpHeaderNames.IF_MODIFIED_SINCE.toString()));
        refuseUnmodifiedSince(call);
        Map<String, String> params = requireParams(call, Set.of("w"));
        Condition condition = condition(call.headers(), false);
        return write(call, kv, List.of(new Op.Delete(key, condition)), params, false, loop);
    }

    private Condition condition(HttpHeaders headers, boolean allowIfNoneMatch) {
        String ifMatch = header(headers, HttpHeaderNames.IF_MATCH.toString());
        String ifNoneMatch = header(headers, HttpHeaderNames.IF_NONE_MATCH.toString());
        if (ifNoneMatch != null) {
            if (!allowIfNoneMatch) {
                throw new CairnException(ErrorCode.INVALID_HEADER, "If-None-Match is not supported on DELETE");
            }
            if (!ifNoneMatch.trim().equals("*")) {
                throw new CairnException(ErrorCode.INVALID_HEADER, "on writes, If-None-Match supports only * (create only if absent)");
            }
            if (ifMatch != null) {
                throw new CairnException(ErrorCode.INVALID_HEADER, "If-Match and If-None-Match cannot be combined");
            }
            return Condition.ifAbsent();
        }
        if (ifMatch == null) {
            return Condition.NONE;
        }
        Etags.Match m = Etags.parse(ifMatch, "If-Match");
        return m.any() ? new Condition(java.util.Set.of(), true, false) : Condition.ifMatchOneOf(m.versions());
    }

    // ---- BATCH ----

    private CompletableFuture<FullHttpResponse> batch(HttpCall call, Kv kv, EventLoop loop, Verdict.Allowed caller) {
        Map<String, String> params = requireParams(call, Set.of("r", "w"));
        refuseSingleKeyHeaders(call);
        requireJson(call, "a batch body");
        List<Op> ops = BatchCodec.parse(call.body(), limits);
        if (ops.stream().noneMatch(Op::isWrite)) {
            // As on a single read: a batch of reads changes nothing to replay, and storing its
            // answer (every value it read) would let a reader fill the disk.
            refuseHeaders(call, "a batch of reads only", List.of(IDEMPOTENCY_HEADER));
        }
        if (caller != null && ops.stream().anyMatch(Op::isWrite)
                && authenticator.recheck(caller, Need.data(kv.namespace(), Right.WRITE), call.remote()) instanceof Verdict.Refused r) {
            return done(refusal(r));
        }
        return write(call, kv, ops, params, true, loop);
    }

    /**
     * Headers that mean nothing on this kind of request (a write quorum or a TTL on a read, a read
     * quorum on a write): taken silently, the client would believe a setting applied that did not.
     */
    private static void refuseHeaders(HttpCall call, String what, List<String> names) {
        refuseHeaders(call, names, name -> name + " does not apply to " + what + "; see docs/api.md for the headers it takes");
    }

    /** Refuses ({@code invalid_header}) the first of {@code names} the request carries, saying {@code why} of it. */
    private static void refuseHeaders(HttpCall call, List<String> names, java.util.function.Function<String, String> why) {
        for (String name : names) {
            if (call.headers().contains(name)) {
                throw new CairnException(ErrorCode.INVALID_HEADER, why.apply(name));
            }
        }
    }

    /**
     * {@code If-Unmodified-Since} is a condition Cairn cannot evaluate atomically with a write (a
     * version is finer than Last-Modified's whole second, and conditions are checked by the key's
     * Paxos round on versions): taken silently, the write would run unconditionally.
     */
    private static void refuseUnmodifiedSince(HttpCall call) {
        if (call.headers().contains(HttpHeaderNames.IF_UNMODIFIED_SINCE)) {
            throw new CairnException(ErrorCode.INVALID_HEADER, "If-Unmodified-Since is not supported (Last-Modified counts whole seconds,"
                    + " versions are finer): send If-Match with the ETag instead");
        }
    }

    /**
     * Headers that shape a single key's write mean nothing on a batch, whose conditions and TTLs
     * are per operation in its body: taken silently, a batch sent with {@code If-Match} would run
     * its operations unconditionally. Refused, naming where the setting goes.
     */
    private static void refuseSingleKeyHeaders(HttpCall call) {
        refuseUnmodifiedSince(call);
        refuseHeaders(call, List.of("If-Match", "If-None-Match", "If-Modified-Since", TTL_HEADER, CONSISTENCY_HEADER),
                name -> name + " does not apply to a batch: give each operation its condition (\"ifMatch\", \"ifNoneMatch\") and TTL"
                        + " (\"ttl\") in the body; a batch is not a serial read");
    }

    /**
     * A JSON body (a batch, an admin request's settings): a Content-Type, when given, must say so
     * ({@code application/json}, optionally with {@code charset=utf-8}); anything else — a form,
     * text — is refused with 415 rather than parsed on a guess. {@code what} names the body.
     */
    static void requireJson(HttpCall call, String what) {
        String type = header(call.headers(), HttpHeaderNames.CONTENT_TYPE.toString());
        if (type == null) {
            return;
        }
        String[] parts = type.split(";");
        boolean json = parts[0].trim().equalsIgnoreCase(Responses.APPLICATION_JSON);
        for (int i = 1; i < parts.length && json; i++) {
            String p = parts[i].trim().toLowerCase(java.util.Locale.ROOT).replace("\"", "");
            json = p.equals("charset=utf-8");
        }
        if (!json) {
            throw new CairnException(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                    what + " must be JSON: send Content-Type: application/json (got '" + type + "')");
        }
    }

    // ---- writes and batches ----

    private CompletableFuture<FullHttpResponse> write(HttpCall call, Kv kv, List<Op> ops, Map<String, String> params, boolean batch, EventLoop loop) {
        IdempotencyTag tag = idempotency(call);
        Quorum r = batch ? quorum(call, params, "r", R_HEADER) : null;
        Quorum w = quorum(call, params, "w", W_HEADER);
        String token = header(call.headers(), AFTER_HEADER);
        io.cairn.clock.Version after = token == null ? null : Etags.causalToken(token, AFTER_HEADER);
        return rendered(kv.service().write(ops, tag, r, w, after, call.deadlineNanos()), outcome -> render(ops, outcome, batch, tag != null), loop);
    }

    private FullHttpResponse render(List<Op> ops, WriteOutcome outcome, boolean batch, boolean tagged) {
        return switch (outcome) {
            // A put over its namespace's value limit (the core's check) is, in a batch, a bad operation like any other.
            case WriteOutcome.Failed f when batch && f.code() == ErrorCode.VALUE_TOO_LARGE -> Responses.error(BatchCodec.badOperation(
                    f.details().get("operation") instanceof Integer i ? i : 0, new CairnException(f.code(), f.message())));
            case WriteOutcome.Failed f -> Responses.error(f.code(), f.message(), f.details());
            case WriteOutcome.Executed e -> {
                FullHttpResponse response = results(ops, e.results(), batch);
                if (tagged && !e.recorded()) {
                    // The operations ran but their outcome could not be kept: a retry may run them again.
                    response.headers().set(RECORDED_HEADER, "false");
                }
                if (e.replayed()) {
                    response.headers().set(REPLAYED_HEADER, "true");
                } else if (!batch && service.replicated()) {
                    Answer a = e.answers().get(0);
                    if (a.result() instanceof OpResult.Written || a.result() instanceof OpResult.Deleted) {
                        response.headers().set(ACKS_HEADER, a.acks());
                        // Under sloppy quorum: how many acknowledgements came from fallbacks holding a hint.
                        if (a.fallbackAcks() > 0) {
                            response.headers().set(FALLBACK_ACKS_HEADER, a.fallbackAcks());
                        }
                    }
                }
                yield response;
            }
        };
    }

    /**
     * Renders what the service answers on the connection's event loop (at once when it answered
     * already and we are on that loop); a failure the service did not turn into an answer becomes
     * an error response, so the returned future never completes exceptionally.
     */
    static <T> CompletableFuture<FullHttpResponse> rendered(CompletableFuture<T> answer, Function<T, FullHttpResponse> render,
                                                                    EventLoop loop) {
        Function<T, FullHttpResponse> safe = value -> {
            try {
                return render.apply(value);
            } catch (CairnException e) {
                return Responses.error(e);
            }
        };
        CompletableFuture<FullHttpResponse> response = answer.isDone() && loop.inEventLoop() ? answer.thenApply(safe)
                : answer.thenApplyAsync(safe, loop);
        return response.exceptionally(NodeApi::failure);
    }

    private static FullHttpResponse failure(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof CairnException c) {
            return Responses.error(c);
        }
        if (cause instanceof Error e) {
            throw e;
        }
        Invariant.InvariantViolation violation = Invariant.violationIn(cause);
        if (violation != null) {
            // A bug, not a failure to answer: it stays exceptional, and the connection's handler reports it as fatal.
            throw violation;
        }
        // A 500 is a bug, which the docs ask to report with its log line: there must be one.
        org.slf4j.LoggerFactory.getLogger(NodeApi.class).atError().setCause(cause).log("request failed with an internal error");
        return Responses.error(ErrorCode.INTERNAL, "internal error: " + cause);
    }

    /**
     * A quorum from its query parameter or its header (both given: they must agree); null when
     * neither is, which means the service's default. A single node takes the quorums that one
     * replica meets (its service refuses the others), so cluster client code runs unchanged.
     */
    /**
     * Whether the read asks for {@code serial} consistency ({@code ?consistency=} or the
     * {@value #CONSISTENCY_HEADER} header, which must agree): {@code serial} or {@code quorum} (the default).
     */
    private static boolean serial(HttpCall call, Map<String, String> params) {
        String param = params.get("consistency");
        String header = header(call.headers(), CONSISTENCY_HEADER);
        if (param != null && header != null && !param.trim().equalsIgnoreCase(header.trim())) {
            throw new CairnException(ErrorCode.INVALID_PARAMETER, "the consistency query parameter and the " + CONSISTENCY_HEADER + " header disagree");
        }
        String text = param != null ? param : header;
        if (text == null) {
            return false;
        }
        return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "serial" -> true;
            case "quorum" -> false;
            default -> throw new CairnException(ErrorCode.INVALID_PARAMETER, "consistency must be serial or quorum, got '" + text + "'");
        };
    }

    private Quorum quorum(HttpCall call, Map<String, String> params, String name, String headerName) {
        String param = params.get(name);
        String header = header(call.headers(), headerName);
        if (param != null && header != null && !param.trim().equalsIgnoreCase(header.trim())) {
            throw new CairnException(ErrorCode.INVALID_QUORUM, "the " + name + " query parameter and the " + headerName + " header disagree");
        }
        String text = param != null ? param : header;
        if (text == null) {
            return null;
        }
        try {
            return Quorum.parse(text);
        } catch (IllegalArgumentException e) {
            throw new CairnException(ErrorCode.INVALID_QUORUM, name + " " + e.getMessage());
        }
    }

    /** A batch's per-operation results as JSON, or a single operation's own answer. */
    static FullHttpResponse results(List<Op> ops, List<OpResult> results, boolean batch) {
        return batch
                ? Responses.bytes(HttpResponseStatus.OK, BatchCodec.render(ops, results), Responses.APPLICATION_JSON)
                : single(results.get(0));
    }

    static FullHttpResponse single(OpResult result) {
        return switch (result) {
            case OpResult.Written w -> {
                FullHttpResponse r = Responses.empty(HttpResponseStatus.OK);
                r.headers().set(HttpHeaderNames.ETAG, Etags.of(w.version()));
                if (w.expiresAtMillis() != Record.NO_EXPIRY) {
                    r.headers().set(EXPIRES_HEADER, Instant.ofEpochMilli(w.expiresAtMillis()).toString());
                }
                yield r;
            }
            case OpResult.Deleted d -> {
                FullHttpResponse r = Responses.empty(HttpResponseStatus.NO_CONTENT);
                r.headers().set(HttpHeaderNames.ETAG, Etags.of(d.version()));
                yield r;
            }
            case OpResult.PreconditionFailed p -> {
                Map<String, Object> details = new HashMap<>();
                details.put("currentEtag", p.current() == null ? null : Etags.of(p.current()));
                FullHttpResponse r = Responses.error(ErrorCode.PRECONDITION_FAILED,
                        p.current() == null ? "the condition did not hold: the key has no live value" : "the condition did not hold: the current version differs",
                        details);
                if (p.current() != null) {
                    r.headers().set(HttpHeaderNames.ETAG, Etags.of(p.current()));
                }
                yield r;
            }
            case OpResult.Failed f -> Responses.error(f.code(), f.message(), f.details());
            default -> throw new IllegalStateException("unexpected write result " + result);
        };
    }

    private IdempotencyTag idempotency(HttpCall call) {
        String key = header(call.headers(), IDEMPOTENCY_HEADER);
        if (key == null) {
            return null;
        }
        if (!IdempotencyTag.isValidKey(key)) {
            throw new CairnException(ErrorCode.INVALID_IDEMPOTENCY_KEY,
                    "Idempotency-Key must be 1 to " + IdempotencyTag.MAX_KEY_LENGTH + " visible ASCII characters");
        }
        return new IdempotencyTag(key, fingerprint(call), idempotencyRetentionMillis);
    }

    /** SHA-256 over everything that gives the request its meaning. */
    static byte[] fingerprint(HttpCall call) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        HttpHeaders h = call.headers();
        for (String part : new String[] {call.method().name(), call.path(), call.query(),
                String.valueOf(h.get(HttpHeaderNames.CONTENT_TYPE)), String.valueOf(h.get(HttpHeaderNames.IF_MATCH)),
                String.valueOf(h.get(HttpHeaderNames.IF_NONE_MATCH)), String.valueOf(h.get(TTL_HEADER))}) {
            byte[] b = part.getBytes(StandardCharsets.UTF_8);
            sha.update(new byte[] {(byte) (b.length >>> 24), (byte) (b.length >>> 16), (byte) (b.length >>> 8), (byte) b.length});
            sha.update(b);
        }
        sha.update(call.body());
        return sha.digest();
    }

    // ---- helpers ----

    private byte[] key(Kv kv) {
        return KeyCodec.decodeKey(kv.path().substring(KV_PREFIX.length()), limits.maxKeyBytes());
    }

    private static final String NS_PREFIX = "/ns/";

    /**
     * A data route: the namespace it addresses and its path in the default namespace's form —
     * {@code /kv/...} is the default namespace, {@code /ns/{name}/kv/...} namespace {@code name}.
     */
    record Target(String namespace, String kvPath) {}

    /** The data route {@code path} names, or null when it is not one. */
    static Target target(String path) {
        if (path.equals(KV) || path.startsWith(KV_PREFIX)) {
            return new Target(Namespace.DEFAULT_NAME, path);
        }
        if (path.startsWith(NS_PREFIX)) {
            int slash = path.indexOf('/', NS_PREFIX.length());
            if (slash > NS_PREFIX.length()) {
                String rest = path.substring(slash);
                if (rest.equals(KV) || rest.startsWith(KV_PREFIX)) {
                    return new Target(path.substring(NS_PREFIX.length(), slash), rest);
                }
            }
        }
        return null;
    }

    /** A data request's namespace: its name, the service over it, and the request's path in the {@code /kv/...} form. */
    record Kv(String namespace, KvService service, String path) {}

    private Kv kv(Target t) {
        if (t.namespace().equals(Namespace.DEFAULT_NAME)) {
            // The policy the cluster set for the default namespace (its quorums, TTL and value
            // limit), when it set one; this node's settings otherwise.
            Namespace defined = namespaces == null ? null : namespaces.definedDefault();
            return new Kv(t.namespace(), defined == null ? service : namespaced.in(defined), t.kvPath());
        }
        if (namespaces == null) {
            throw new CairnException(ErrorCode.NAMESPACE_NOT_FOUND, "this node serves the default namespace only (at /kv/...)");
        }
        return new Kv(t.namespace(), namespaced.in(namespaces.resolve(t.namespace())), t.kvPath());
    }

    static Map<String, String> requireParams(HttpCall call, Set<String> allowed) {
        Map<String, String> params = KeyCodec.decodeQuery(call.query());
        for (String name : params.keySet()) {
            if (!allowed.contains(name)) {
                throw new CairnException(ErrorCode.INVALID_PARAMETER, "unknown query parameter '" + name + "'"
                        + (allowed.isEmpty() ? "; this route takes none" : "; this route takes " + allowed));
            }
        }
        return params;
    }

    private static String header(HttpHeaders headers, String name) {
        List<String> all = headers.getAll(name);
        if (all.isEmpty()) {
            return null;
        }
        if (all.size() > 1) {
            throw new CairnException(ErrorCode.INVALID_HEADER, name + " is given more than once");
        }
        return all.get(0);
    }

    static CompletableFuture<FullHttpResponse> done(FullHttpResponse r) {
        return CompletableFuture.completedFuture(r);
    }
}
