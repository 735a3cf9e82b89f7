package io.cairn.server.http;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.membership.Member;
import io.cairn.metadata.ClusterMetadata;
import io.cairn.metadata.MetadataCommand;
import io.cairn.server.security.AuditSink;
import io.cairn.auth.Verdict;
import io.cairn.server.metadata.MetadataUnavailableException;
import io.cairn.server.service.MembershipAdmin;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The admin routes of an elastic cluster (docs/api.md, "Membership"):
 * <ul>
 *   <li>{@code GET /admin/membership}: epoch, members and their states, the running change;</li>
 *   <li>{@code POST /admin/membership/join|decommission|remove|replace?...}: a change, through the
 *       metadata log (every one idempotent; refused with 404/409/422 and the reason);</li>
 *   <li>{@code GET /admin/rebalance}, {@code POST /admin/rebalance/pause|resume|cancel};</li>
 *   <li>{@code GET /admin/what-if?lose=zone:Z} or {@code ?lose=node:1,2};</li>
 *   <li>{@code GET /admin/cluster/bootstrap}: the first epoch, the settings every member must
 *       share, and the metadata group's members as this node knows them now (its contacts in the
 *       group: the first epoch's voters may have left), for a node joining through this one;</li>
 *   <li>{@code GET /admin/cluster/settings}: those settings as the metadata log records them, the
 *       values this node runs with and how they differ; {@code PUT} with a JSON object of new values
 *       records them (each member takes them at its next start).</li>
 * </ul>
 * Every change is audited.
 */
final class MembershipRoutes {
    static final String PREFIX = "/admin/membership";
    static final String REBALANCE = "/admin/rebalance";
    static final String WHAT_IF = "/admin/what-if";
    static final String BOOTSTRAP = "/admin/cluster/bootstrap";
    static final String SETTINGS = "/admin/cluster/settings";
    /** The most a settings change's body may hold. */
    private static final int MAX_SETTINGS_BODY = 16 << 10;
    private static final Set<String> MEMBER_PARAMS = Set.of("id", "zone", "http", "internode", "metadata");

    private final MembershipAdmin admin; // null: not an elastic cluster
    private final AuditSink audit;

    // A cluster (of a fixed member list, when admin is null), not a single node.
    private final boolean clustered;

    MembershipRoutes(MembershipAdmin admin, AuditSink audit, boolean clustered) {
        this.admin = admin;
        this.audit = audit;
        this.clustered = clustered;
    }

    static boolean handles(String path) {
        return path.equals(PREFIX) || path.startsWith(PREFIX + "/") || path.equals(REBALANCE) || path.startsWith(REBALANCE + "/")
                || path.equals(WHAT_IF) || path.equals(BOOTSTRAP) || path.equals(SETTINGS);
    }

    CompletableFuture<FullHttpResponse> handle(HttpCall call, Verdict.Allowed caller) {
        if (admin == null) {
            return done(Responses.error(ErrorCode.ROUTE_NOT_FOUND, clustered
                    ? "this node's cluster has a fixed membership: give every member of cluster.members a metadata address to change it"
                            + " (see docs/operations.md)"
                    : "this is a single node (no cluster.members): it has no membership, partitions or cluster settings to show or change"));
        }
        String path = call.path();
        boolean get = call.method().equals(HttpMethod.GET) || call.method().equals(HttpMethod.HEAD);
        boolean post = call.method().equals(HttpMethod.POST);
        if (path.equals(SETTINGS)) {
            return settings(call, caller, get);
        }
        switch (path) {
            case PREFIX, REBALANCE, WHAT_IF, BOOTSTRAP -> {
                if (!get) {
                    return done(NodeApi.methodNotAllowed("GET, HEAD"));
                }
                if (path.equals(REBALANCE)) {
                    // Its progress waits (briefly) for every core shard's fresh snapshot: not on an event loop.
                    NodeApi.requireParams(call, Set.of());
                    return NodeApi.offEventLoop(() -> Responses.json(HttpResponseStatus.OK, admin.rebalanceView()));
                }
                return done(Responses.json(HttpResponseStatus.OK, switch (path) {
                    case PREFIX -> {
                        NodeApi.requireParams(call, Set.of());
                        yield admin.membershipView();
                    }
                    case WHAT_IF -> whatIf(call);
                    default -> {
                        NodeApi.requireParams(call, Set.of());
                        yield Map.of("state", admin.bootstrap(), "settings", admin.clusterWideSettings(), "contacts", admin.joinContacts(),
                                "acknowledged", admin.acknowledgedLog());
                    }
                }));
            }
            default -> {
                if (!post) {
                    return done(NodeApi.methodNotAllowed("POST"));
                }
                return change(command(path, call), call, caller);
            }
        }
    }

    private CompletableFuture<FullHttpResponse> settings(HttpCall call, Verdict.Allowed caller, boolean get) {
        NodeApi.requireParams(call, Set.of());
        if (get) {
            return done(Responses.json(HttpResponseStatus.OK, admin.settingsView()));
        }
        if (!call.method().equals(HttpMethod.PUT)) {
            return done(NodeApi.methodNotAllowed("GET, HEAD, PUT"));
        }
        NodeApi.requireJson(call, "the settings");
        Map<String, String> changes = settingsBody(call.body());
        String event = "admin.settings";
        Map<String, String> asked = new java.util.TreeMap<>(changes);
        CompletableFuture<ClusterMetadata.Result> change;
        try {
            change = admin.changeSettings(changes);
        } catch (IllegalArgumentException e) {
            audit.record(event, "refused", NodeApi.who(caller), String.valueOf(call.remote()), Map.of("reason", e.getMessage()));
            throw new CairnException(ErrorCode.INVALID_SETTING, e.getMessage());
        }
        return answer(change, event, caller, call, asked, Map.of(), "settings changes", result -> {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("epoch", result.state().epoch());
            body.put("cluster", result.state().settings());
            body.put("note", "each member takes the new values at its next start; GET /admin/cluster/settings on a member says whether"
                    + " it still runs with others");
            return body;
        });
    }

    /** A settings change: a JSON object of setting names to values (strings, or whole numbers), at least one. */
    private static Map<String, String> settingsBody(byte[] body) {
        if (body.length > MAX_SETTINGS_BODY) {
            throw new CairnException(ErrorCode.BODY_TOO_LARGE, "a settings change is at most " + MAX_SETTINGS_BODY + " bytes");
        }
        com.fasterxml.jackson.databind.JsonNode root = body.length == 0 ? null
                : BatchCodec.readStrict(body, reason -> new CairnException(ErrorCode.INVALID_SETTING, reason));
        if (root == null || !root.isObject() || root.isEmpty()) {
            throw new CairnException(ErrorCode.INVALID_SETTING, "the body must be a JSON object of settings to change, such as"
                    + " {\"limits.maxValueBytes\": \"4MiB\"}");
        }
        Map<String, String> out = new java.util.TreeMap<>();
        for (var e : root.properties()) {
            com.fasterxml.jackson.databind.JsonNode v = e.getValue();
            if (!(v.isTextual() || v.isIntegralNumber())) {
                throw new CairnException(ErrorCode.INVALID_SETTING, e.getKey() + ": the value must be a string or a whole number");
            }
            out.put(e.getKey(), v.asText());
        }
        return out;
    }

    private Map<String, Object> whatIf(HttpCall call) {
        Map<String, String> params = NodeApi.requireParams(call, Set.of("lose"));
        String lose = params.get("lose");
        if (lose == null) {
            throw new CairnException(ErrorCode.INVALID_PARAMETER, "lose is missing: give lose=zone:ZONE or lose=node:ID[,ID...]");
        }
        if (!(lose.startsWith("zone:") || lose.startsWith("node:"))) {
            throw new CairnException(ErrorCode.INVALID_PARAMETER, "lose must be zone:ZONE or node:ID[,ID...], got '" + lose + "'");
        }
        Set<Integer> nodes = new TreeSet<>();
        if (lose.startsWith("zone:")) {
            String zone = lose.substring(5);
            nodes.addAll(admin.nodesInZone(zone));
            if (nodes.isEmpty()) {
                throw new CairnException(ErrorCode.INVALID_PARAMETER, "no member is in zone '" + zone + "'");
            }
        } else {
            Set<Integer> members = admin.activeMembers();
            // split with -1 keeps empty parts, so "1," and "1,,2" are refused alike.
            for (String id : lose.substring(5).split(",", -1)) {
                int node = nodeId(id, "lose");
                if (!members.contains(node)) {
                    throw new CairnException(ErrorCode.INVALID_PARAMETER, "node " + node + " is not an active member; GET /admin/membership"
                            + " lists them");
                }
                if (!nodes.add(node)) {
                    throw new CairnException(ErrorCode.INVALID_PARAMETER, "lose names node " + node + " twice");
                }
            }
        }
        return admin.whatIf(nodes, lose);
    }

    /** An operator's change as asked: the command, the action it was asked by, and whether the liveness check is overridden. */
    private record Asked(MetadataCommand command, String action, boolean force) {}

    private static Asked command(String path, HttpCall call) {
        String action = path.substring(path.lastIndexOf('/') + 1);
        boolean membership = path.startsWith(PREFIX + "/");
        if (!membership && !path.startsWith(REBALANCE + "/")) {
            throw new CairnException(ErrorCode.ROUTE_NOT_FOUND, "no route " + path + "; see docs/api.md");
        }
        if (!membership) {
            NodeApi.requireParams(call, Set.of());
            return new Asked(switch (action) {
                case "pause" -> new MetadataCommand.Pause(true);
                case "resume" -> new MetadataCommand.Pause(false);
                case "cancel" -> new MetadataCommand.Cancel();
                default -> throw new CairnException(ErrorCode.ROUTE_NOT_FOUND, "no route " + path + "; /admin/rebalance/ takes pause, resume or cancel");
            }, action, false);
        }
        return switch (action) {
            case "join" -> new Asked(new MetadataCommand.Join(member(NodeApi.requireParams(call, MEMBER_PARAMS), "")), action, false);
            case "decommission" -> {
                Map<String, String> p = NodeApi.requireParams(call, Set.of("node", "allowZoneLoss"));
                yield new Asked(new MetadataCommand.Decommission(nodeId(p.get("node"), "node"), flag(p, "allowZoneLoss")), action, false);
            }
            case "remove" -> {
                Map<String, String> p = NodeApi.requireParams(call, Set.of("node", "allowZoneLoss", "force"));
                yield new Asked(new MetadataCommand.Remove(nodeId(p.get("node"), "node"), flag(p, "allowZoneLoss")), action, flag(p, "force"));
            }
            case "replace" -> {
                Set<String> allowed = new TreeSet<>(MEMBER_PARAMS);
                allowed.addAll(Set.of("node", "allowZoneLoss", "force"));
                Map<String, String> p = NodeApi.requireParams(call, allowed);
                yield new Asked(new MetadataCommand.Replace(nodeId(p.get("node"), "node"), member(p, " (the replacement)"), flag(p, "allowZoneLoss")),
                        action, flag(p, "force"));
            }
            default -> throw new CairnException(ErrorCode.ROUTE_NOT_FOUND,
                    "no route " + path + "; /admin/membership/ takes join, decommission, remove or replace");
        };
    }

    private CompletableFuture<FullHttpResponse> change(Asked asked, HttpCall call, Verdict.Allowed caller) {
        Map<String, String> where = Map.of("path", call.path(), "query", call.query());
        return answer(admin.operatorChange(asked.command(), asked.force()), "admin.membership", caller, call, where, where,
                "membership changes", result -> {
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("applied", asked.action());
                    // The state the change produced, not this node's applied one, which may lag behind it.
                    body.putAll(admin.membershipView(result.state()));
                    return body;
                });
    }

    /**
     * The answer to a change sent to the metadata log, audited as {@code event}: 503 {@code
     * metadata_unavailable} without the log's majority (naming {@code what} waits for it; data
     * keeps being served at the last epoch), the refusal's code when the state machine refused it,
     * else 200 with {@code body} of the result. {@code asked} goes into the audit line of a change
     * done, {@code context} into those of a change that failed or was refused.
     */
    private CompletableFuture<FullHttpResponse> answer(CompletableFuture<ClusterMetadata.Result> change, String event,
                                                       Verdict.Allowed caller, HttpCall call, Map<String, String> asked,
                                                       Map<String, String> context, String what,
                                                       java.util.function.Function<ClusterMetadata.Result, Map<String, Object>> body) {
        String who = NodeApi.who(caller);
        String from = String.valueOf(call.remote());
        return change.handle((result, error) -> {
            Throwable cause = error instanceof CompletionException c && c.getCause() != null ? c.getCause() : error;
            if (cause instanceof CairnException e) {
                audit.record(event, "refused", who, from, with(context, "reason", e.getMessage()));
                return Responses.error(e);
            }
            if (cause != null) {
                audit.record(event, "failed", who, from, with(context, "reason", String.valueOf(cause)));
                return cause instanceof MetadataUnavailableException
                        ? Responses.error(ErrorCode.METADATA_UNAVAILABLE, cause.getMessage() + "; " + what + " wait for the metadata"
                        + " log's majority (data keeps being served at the last epoch)")
                        : Responses.error(ErrorCode.INTERNAL, "the metadata log failed: " + cause);
            }
            if (result.refused()) {
                audit.record(event, "refused", who, from, with(context, "reason", result.refusal().message()));
                return Responses.error(code(result.refusal().kind()), result.refusal().message());
            }
            audit.record(event, "done", who, from, asked);
            return Responses.json(HttpResponseStatus.OK, body.apply(result));
        });
    }

    private static Map<String, String> with(Map<String, String> map, String key, String value) {
        Map<String, String> copy = new LinkedHashMap<>(map);
        copy.put(key, value);
        return copy;
    }

    static ErrorCode code(ClusterMetadata.Refusal.Kind kind) {
        return switch (kind) {
            case UNKNOWN_NODE -> ErrorCode.NODE_NOT_FOUND;
            case CONFLICT -> ErrorCode.MEMBERSHIP_CONFLICT;
            case UNSAFE -> ErrorCode.MEMBERSHIP_UNSAFE;
            case INVALID -> ErrorCode.INVALID_MEMBER;
            case INVALID_NAMESPACE -> ErrorCode.INVALID_NAMESPACE;
            case NAMESPACE_CONFLICT -> ErrorCode.NAMESPACE_CONFLICT;
            case INVALID_SETTING -> ErrorCode.INVALID_SETTING;
        };
    }

    private static Member member(Map<String, String> p, String which) {
        for (String name : MEMBER_PARAMS) {
            if (p.get(name) == null || p.get(name).isBlank()) {
                throw new CairnException(ErrorCode.INVALID_PARAMETER, "a member" + which + " needs id, zone, http, internode and metadata;"
                        + " " + name + " is missing");
            }
        }
        for (String name : new String[] {"http", "internode", "metadata"}) {
            hostPort(p.get(name), name);
        }
        try {
            return new Member(nodeId(p.get("id"), "id"), p.get("zone"), p.get("http"), p.get("internode"), p.get("metadata"));
        } catch (IllegalArgumentException e) {
            throw new CairnException(ErrorCode.INVALID_MEMBER, e.getMessage());
        }
    }

    /** A member's address: host:port, else the member is malformed ({@code invalid_member}). */
    private static void hostPort(String value, String name) {
        int colon = value.lastIndexOf(':');
        int port;
        try {
            port = colon <= 0 ? -1 : Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65_535) {
            throw new CairnException(ErrorCode.INVALID_MEMBER, name + " must be host:port, got '" + value + "'");
        }
    }

    private static int nodeId(String text, String name) {
        if (text == null) {
            throw new CairnException(ErrorCode.INVALID_PARAMETER, name + " is missing: give the node id, between 1 and 65535");
        }
        try {
            int id = Integer.parseInt(text.trim());
            if (id >= 1 && id <= 65_535) {
                return id;
            }
        } catch (NumberFormatException e) {
            // Reported below.
        }
        throw new CairnException(ErrorCode.INVALID_PARAMETER, name + " must be a node id between 1 and 65535, got '" + text + "'");
    }

    private static boolean flag(Map<String, String> p, String name) {
        String v = p.getOrDefault(name, "false");
        if (!v.equals("true") && !v.equals("false")) {
            throw new CairnException(ErrorCode.INVALID_PARAMETER, name + " must be true or false, got '" + v + "'");
        }
        return v.equals("true");
    }

    private static CompletableFuture<FullHttpResponse> done(FullHttpResponse r) {
        return CompletableFuture.completedFuture(r);
    }
}
