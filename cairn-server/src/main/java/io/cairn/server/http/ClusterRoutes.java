package io.cairn.server.http;

import io.cairn.coordinator.ClientResult;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.quorum.Quorum;
import io.cairn.request.Limits;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The key-value routes when the node is part of a cluster: every request goes through the
 * coordinator at the requested (or default) read and write quorums, and answers say how many
 * replicas took part ({@code Cairn-Acks}, {@code Cairn-Replies}).
 *
 * <p>Conditional writes (If-Match / If-None-Match) are refused while N > 1: a linearizable CAS on
 * replicated data needs a consensus round per key, which comes in a later stage; running it as a
 * read-then-write race would be unsafe.
 */
final class ClusterRoutes {
    static final String ACKS_HEADER = "Cairn-Acks";
    static final String REPLIES_HEADER = "Cairn-Replies";
    static final String R_HEADER = "Cairn-Read-Quorum";
    static final String W_HEADER = "Cairn-Write-Quorum";

    private final ClusterFront cluster;
    private final Limits limits;

    ClusterRoutes(ClusterFront cluster, Limits limits) {
        this.cluster = cluster;
        this.limits = limits;
    }

    CompletableFuture<FullHttpResponse> get(HttpCall call, byte[] key, Map<String, String> params, Etags.Match ifNoneMatch) {
        Quorum r = quorum(params.get("r"), call.headers().get(R_HEADER), cluster.defaultReadQuorum(), "r");
        return cluster.get(key, r).thenApply(result -> switch (result) {
            case ClientResult.Found f -> withCount(NodeApi.found(f.record(), ifNoneMatch), REPLIES_HEADER, f.replies());
            case ClientResult.NotFound nf -> withCount(NodeApi.notFound(), REPLIES_HEADER, nf.replies());
            default -> failure(result);
        });
    }

    CompletableFuture<FullHttpResponse> put(HttpCall call, Op.Put op, Map<String, String> params) {
        refuseConditions(op.condition().isNone());
        Quorum w = quorum(params.get("w"), call.headers().get(W_HEADER), cluster.defaultWriteQuorum(), "w");
        return cluster.put(op.key(), op.value(), op.contentType(), op.ttlMillis(), w).thenApply(ClusterRoutes::single);
    }

    CompletableFuture<FullHttpResponse> delete(HttpCall call, Op.Delete op, Map<String, String> params) {
        refuseConditions(op.condition().isNone());
        Quorum w = quorum(params.get("w"), call.headers().get(W_HEADER), cluster.defaultWriteQuorum(), "w");
        return cluster.delete(op.key(), w).thenApply(ClusterRoutes::single);
    }

    /** A batch fans out per operation; each answer is that operation's own outcome. */
    CompletableFuture<FullHttpResponse> batch(HttpCall call, List<Op> ops, Map<String, String> params) {
        for (Op op : ops) {
            boolean unconditional = switch (op) {
                case Op.Put p -> p.condition().isNone();
                case Op.Delete d -> d.condition().isNone();
                default -> true;
            };
            refuseConditions(unconditional);
        }
        Quorum r = quorum(params.get("r"), call.headers().get(R_HEADER), cluster.defaultReadQuorum(), "r");
        Quorum w = quorum(params.get("w"), call.headers().get(W_HEADER), cluster.defaultWriteQuorum(), "w");
        List<CompletableFuture<OpResult>> results = new ArrayList<>(ops.size());
        for (Op op : ops) {
            CompletableFuture<ClientResult> f = switch (op) {
                case Op.Put p -> cluster.put(p.key(), p.value(), p.contentType(), p.ttlMillis(), w);
                case Op.Delete d -> cluster.delete(d.key(), w);
                case Op.Get g -> cluster.get(g.key(), r);
                case Op.Apply a -> throw new IllegalStateException("not a client operation");
            };
            results.add(f.thenApply(ClusterRoutes::toOpResult));
        }
        return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).thenApply(x -> {
            List<OpResult> list = results.stream().map(CompletableFuture::join).toList();
            return Responses.bytes(HttpResponseStatus.OK, BatchCodec.render(ops, list), Responses.APPLICATION_JSON);
        });
    }

    private static OpResult toOpResult(ClientResult r) {
        return switch (r) {
            case ClientResult.Written w -> new OpResult.Written(w.version(), w.expiresAtMillis());
            case ClientResult.Deleted d -> new OpResult.Deleted(d.version());
            case ClientResult.Found f -> new OpResult.Found(f.record());
            case ClientResult.NotFound n -> new OpResult.NotFound();
            case ClientResult.Failed f -> new OpResult.Failed(f.code(), f.message());
        };
    }

    private void refuseConditions(boolean unconditional) {
        if (!unconditional && cluster.replicationFactor() > 1) {
            throw new CairnException(ErrorCode.CONDITIONAL_WRITE_UNSUPPORTED,
                    "conditional writes (If-Match, If-None-Match) need linearizable compare-and-swap, which replicated "
                            + "namespaces (N=" + cluster.replicationFactor() + ") do not offer yet; write unconditionally or use a single node");
        }
    }

    private static Quorum quorum(String param, String header, Quorum fallback, String name) {
        if (param != null && header != null && !param.trim().equalsIgnoreCase(header.trim())) {
            throw new CairnException(ErrorCode.INVALID_QUORUM, "the " + name + " query parameter and header disagree");
        }
        String text = param != null ? param : header;
        if (text == null) {
            return fallback;
        }
        try {
            return Quorum.parse(text);
        } catch (IllegalArgumentException e) {
            throw new CairnException(ErrorCode.INVALID_QUORUM, name + " " + e.getMessage());
        }
    }

    /** The single-node rendering of the same outcome, plus how many replicas acknowledged. */
    private static FullHttpResponse single(ClientResult result) {
        return switch (result) {
            case ClientResult.Written w -> withCount(NodeApi.single(toOpResult(w)), ACKS_HEADER, w.acks());
            case ClientResult.Deleted d -> withCount(NodeApi.single(toOpResult(d)), ACKS_HEADER, d.acks());
            default -> failure(result);
        };
    }

    private static FullHttpResponse withCount(FullHttpResponse response, String header, int count) {
        response.headers().set(header, count);
        return response;
    }

    private static FullHttpResponse failure(ClientResult result) {
        if (result instanceof ClientResult.Failed f) {
            return Responses.error(f.code(), f.message(), f.details());
        }
        return Responses.error(ErrorCode.INTERNAL, "unexpected result " + result);
    }
}
