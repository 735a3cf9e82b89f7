package io.cairn.server.security;

import io.cairn.auth.Credential;
import io.cairn.auth.Token;
import io.cairn.auth.TokenCodec;
import io.cairn.auth.TokenKeys;
import io.cairn.auth.TokenState;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.request.Answer;
import io.cairn.request.Condition;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.placement.Quorum;
import io.cairn.request.WriteOutcome;
import io.cairn.server.service.KvService;
import io.cairn.storage.Keyspace;
import io.cairn.storage.StorageEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tokens, kept in the replicated {@code auth} namespace through the same {@link KvService}
 * as the data: on a cluster every read and write is at a majority of the namespace's replicas,
 * so a revocation acknowledged by one node is seen by the next read on any other (whatever the
 * cluster's default quorums). Entries are written once and never changed (see {@link TokenState}).
 *
 * <p>An entry that does not decode is never trusted: a corrupt token is unknown, a corrupt
 * revocation or early end counts as in force (the token stops working), and both are logged.
 */
public final class TokenStore {
    private static final Logger log = LoggerFactory.getLogger(TokenStore.class);
    private static final String TYPE = "application/vnd.cairn.token";
    /** Entries outlive the token's expiry by this much, so a late replica cannot bring a dead token's entries back as live ones. */
    private static final long KEEP_AFTER_EXPIRY_MILLIS = 24 * 3_600_000L;

    private final KvService service;
    // Null on a single node (it has no quorums).
    private final Quorum quorum;
    private final StorageEngine engine;
    // Why this node cannot list tokens (it holds no replica of the auth namespace), or null when it can.
    private final Supplier<String> cannotList;

    public TokenStore(KvService service, StorageEngine engine, Supplier<String> cannotList) {
        this.service = service;
        this.quorum = service.replicated() ? Quorum.MAJORITY : null;
        this.engine = engine;
        this.cannotList = cannotList;
    }

    /** What the store says about {@code id}; fails with a {@link CairnException} when it cannot say. */
    public CompletableFuture<TokenState> read(String id, long deadlineNanos) {
        CompletableFuture<byte[]> token = value(TokenKeys.token(id), deadlineNanos);
        CompletableFuture<byte[]> revoked = value(TokenKeys.revoked(id), deadlineNanos);
        CompletableFuture<byte[]> ends = value(TokenKeys.ends(id), deadlineNanos);
        return CompletableFuture.allOf(token, revoked, ends).thenApply(v -> state(id, token.join(), revoked.join(), ends.join()));
    }

    private static TokenState state(String id, byte[] token, byte[] revoked, byte[] ends) {
        TokenState s = TokenState.decode(id, token, revoked, ends);
        if (token != null && s.token() == null) {
            log.atError().addKeyValue("token", id).log("token entry does not decode or names another token; refusing it");
        }
        if (s.revoked() == TokenState.UNREADABLE || s.ends() == TokenState.UNREADABLE) {
            log.atError().addKeyValue("token", id).log("a revocation or early-end entry does not decode; taking it as in force");
        }
        return s;
    }

    private CompletableFuture<byte[]> value(byte[] key, long deadlineNanos) {
        return service.read(key, quorum, deadlineNanos).thenApply(TokenStore::valueOf);
    }

    private static byte[] valueOf(Answer a) {
        return switch (a.result()) {
            case OpResult.Found f -> f.record().tombstone() ? null : f.record().value();
            case OpResult.NotFound n -> null;
            case OpResult.Failed f -> throw new CompletionException(new CairnException(f.code(), "token store: " + f.message()));
            default -> throw new CompletionException(new CairnException(ErrorCode.INTERNAL, "token store answered " + a.result()));
        };
    }

    public CompletableFuture<Void> create(Token t, long nowMillis, long deadlineNanos) {
        return put(TokenKeys.token(t.id()), TokenCodec.encode(t), keep(t, nowMillis), deadlineNanos);
    }

    public CompletableFuture<Void> revoke(Token t, TokenCodec.Marker m, long nowMillis, long deadlineNanos) {
        return put(TokenKeys.revoked(t.id()), TokenCodec.encodeRevoked(m), keep(t, nowMillis), deadlineNanos);
    }

    public CompletableFuture<Void> end(Token t, TokenCodec.Marker m, long nowMillis, long deadlineNanos) {
        return put(TokenKeys.ends(t.id()), TokenCodec.encodeEnds(m), keep(t, nowMillis), deadlineNanos);
    }

    private static long keep(Token t, long nowMillis) {
        return t.expiresAtMillis() == Token.NEVER ? Op.NO_TTL : Math.max(1, t.expiresAtMillis() - nowMillis) + KEEP_AFTER_EXPIRY_MILLIS;
    }

    private CompletableFuture<Void> put(byte[] key, byte[] value, long ttlMillis, long deadlineNanos) {
        Op put = new Op.Put(key, value, TYPE, ttlMillis, Condition.NONE);
        return service.write(List.of(put), null, quorum, quorum, deadlineNanos).thenApply(outcome -> {
            switch (outcome) {
                case WriteOutcome.Failed f -> throw new CompletionException(new CairnException(f.code(), "token store: " + f.message(), f.details()));
                case WriteOutcome.Executed e -> {
                    OpResult r = e.answers().get(0).result();
                    if (r instanceof OpResult.Failed f) {
                        throw new CompletionException(new CairnException(f.code(), "token store: " + f.message(), f.details()));
                    }
                }
            }
            return null;
        });
    }

    /**
     * The ids of up to {@code limit} tokens after {@code afterId} (null: from the first) that this
     * node's replica holds, in id order. Every token has an entry on a majority of the namespace's
     * replicas; the caller reads each one's state at a majority before showing it.
     */
    public List<String> localIds(String afterId, int limit) {
        String why = cannotList.get();
        if (why != null) {
            throw new CairnException(ErrorCode.ROUTE_NOT_FOUND, why);
        }
        if (afterId != null && !Credential.validId(afterId)) {
            throw new CairnException(ErrorCode.INVALID_PARAMETER, "after must be a token id (16 lowercase hex digits)");
        }
        byte[] from = Keyspace.data(TokenKeys.NAMESPACE_ID, 0, TokenKeys.tokensFrom(afterId));
        byte[] to = Keyspace.data(TokenKeys.NAMESPACE_ID, 0, TokenKeys.tokensEnd());
        List<String> ids = new ArrayList<>();
        for (StorageEngine.Entry e : engine.scan(from, to, limit, 1L << 20)) {
            String id = TokenKeys.idOfToken(Keyspace.userKeyOf(e.key()));
            if (id != null) {
                ids.add(id);
            }
        }
        return ids;
    }

}
