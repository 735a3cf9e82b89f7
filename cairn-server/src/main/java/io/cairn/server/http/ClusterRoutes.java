package io.cairn.server.http;

import io.cairn.coordinator.ClientResult;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.idempotency.IdempotencyTag;
import io.cairn.quorum.Quorum;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.netty.handler.codec.http.FullHttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The key-value routes when the node is part of a cluster: every request goes through the
 * coordinator at the requested (or default) read and write quorums, and answers say how many
 * replicas took part ({@code Cairn-Acks}, {@code Cairn-Replies}).
 *
 * <p>Idempotency keys work as on a single node, with the outcome kept as a replicated record
 * ({@link ClusterIdempotency}), so a retry through any coordinator finds the first outcome.
 *
 * <p>Conditional writes (If-Match / If-None-Match) are refused while N > 1: a linearizable CAS on
 * replicated data needs a consensus round per key, which comes in a later stage; running it as a
 * read-then-write race would be unsafe.
 */
final class ClusterRoutes {
    static final String ACKS_HEADER = "Cairn-Acks";
    static final String FALLBACK_ACKS_HEADER = "Cairn-Fallback-Acks";
    static final String REPLIES_HEADER = "Cairn-Replies";
    static final String R_HEADER = "Cairn-Read-Quorum";
    static final String W_HEADER = "Cairn-Write-Quorum";

    private final ClusterFront cluster;
    private final ClusterIdempotency idempotency;

    ClusterRoutes(ClusterFront cluster, ClusterIdempotency idempotency) {
        this.cluster = cluster;
        this.idempotency = idempotency;
    }

    CompletableFuture<FullHttpResponse> get(HttpCall call, byte[] key, Map<String, String> params, Etags.Match ifNoneMatch) {
        Quorum r = quorum(params.get("r"), call.headers().get(R_HEADER), cluster.defaultReadQuorum(), "r");
        return cluster.get(key, r, call.deadlineNanos()).thenApply(result -> switch (result) {
            case ClientResult.Found f -> withCount(NodeApi.found(f.record(), ifNoneMatch), REPLIES_HEADER, f.replies());
            case ClientResult.NotFound nf -> withCount(NodeApi.notFound(), REPLIES_HEADER, nf.replies());
            default -> failure(result);
        });
    }

    CompletableFuture<FullHttpResponse> put(HttpCall call, Op.Put op, Map<String, String> params, IdempotencyTag tag) {
        return write(call, List.of(op), params, tag, false);
    }

    CompletableFuture<FullHttpResponse> delete(HttpCall call, Op.Delete op, Map<String, String> params, IdempotencyTag tag) {
        return write(call, List.of(op), params, tag, false);
    }

    /** A batch fans out per operation; each answer is that operation's own outcome. */
    CompletableFuture<FullHttpResponse> batch(HttpCall call, List<Op> ops, Map<String, String> params, IdempotencyTag tag) {
        return write(call, ops, params, tag, true);
    }

    private CompletableFuture<FullHttpResponse> write(HttpCall call, List<Op> ops, Map<String, String> params, IdempotencyTag tag, boolean batch) {
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
        if (tag == null) {
            return run(ops, r, w, call.deadlineNanos()).thenApply(results -> render(ops, results, batch));
        }
        int n = cluster.replicationFactor();
        int writeReplicas;
        try {
            writeReplicas = w.resolve(n);
        } catch (IllegalArgumentException e) {
            throw new CairnException(ErrorCode.INVALID_QUORUM, "w=" + w + ": " + e.getMessage());
        }
        return idempotency.run(tag, w, writeReplicas, call.deadlineNanos(), () -> run(ops, r, w, call.deadlineNanos())).thenApply(outcome -> switch (outcome) {
            case ClusterIdempotency.Outcome.Fresh f -> render(ops, f.results(), batch);
            case ClusterIdempotency.Outcome.Replayed rep -> {
                FullHttpResponse response = NodeApi.results(ops, rep.results(), batch);
                response.headers().set(NodeApi.REPLAYED_HEADER, "true");
                yield response;
            }
            case ClusterIdempotency.Outcome.Refused ref -> Responses.error(ref.code(), ref.message(), ref.details());
        });
    }

    /**
     * Runs the operations through the coordinator: operations on different keys at once,
     * operations on one key one after another, so each sees the ones before it. Results are in
     * operation order.
     */
    private CompletableFuture<List<ClientResult>> run(List<Op> ops, Quorum r, Quorum w, long deadlineNanos) {
        List<CompletableFuture<ClientResult>> results = new ArrayList<>(ops.size());
        Map<java.nio.ByteBuffer, CompletableFuture<ClientResult>> lastOnKey = new java.util.HashMap<>();
        for (Op op : ops) {
            CompletableFuture<ClientResult> before = lastOnKey.get(java.nio.ByteBuffer.wrap(op.key()));
            CompletableFuture<ClientResult> result = before == null ? start(op, r, w, deadlineNanos)
                    : before.thenCompose(x -> start(op, r, w, deadlineNanos));
            lastOnKey.put(java.nio.ByteBuffer.wrap(op.key()), result);
            results.add(result);
        }
        return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new))
                .thenApply(x -> results.stream().map(CompletableFuture::join).toList());
    }

    private CompletableFuture<ClientResult> start(Op op, Quorum r, Quorum w, long deadlineNanos) {
        return switch (op) {
            case Op.Put p -> cluster.put(p.key(), p.value(), p.contentType(), p.ttlMillis(), w, deadlineNanos);
            case Op.Delete d -> cluster.delete(d.key(), w, deadlineNanos);
            case Op.Get g -> cluster.get(g.key(), r, deadlineNanos);
            case Op.Apply a -> throw new IllegalStateException("not a client operation");
        };
    }

    private static FullHttpResponse render(List<Op> ops, List<ClientResult> results, boolean batch) {
        // A single write adds its replica counts to the single-node answer.
        return batch ? NodeApi.results(ops, results.stream().map(ClusterRoutes::toOpResult).toList(), true) : single(results.get(0));
    }

    static OpResult toOpResult(ClientResult r) {
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
            case ClientResult.Written w -> withFallbacks(withCount(NodeApi.single(toOpResult(w)), ACKS_HEADER, w.acks()), w.fallbackAcks());
            case ClientResult.Deleted d -> withFallbacks(withCount(NodeApi.single(toOpResult(d)), ACKS_HEADER, d.acks()), d.fallbackAcks());
            default -> failure(result);
        };
    }

    /** Under sloppy quorum: how many of the acknowledgements came from fallbacks holding a hint. */
    private static FullHttpResponse withFallbacks(FullHttpResponse response, int fallbackAcks) {
        if (fallbackAcks > 0) {
            response.headers().set(FALLBACK_ACKS_HEADER, fallbackAcks);
        }
        return response;
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
