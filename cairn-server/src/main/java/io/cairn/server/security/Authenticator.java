package io.cairn.server.security;

import io.cairn.auth.Access;
import io.cairn.auth.Credential;
import io.cairn.auth.Need;
import io.cairn.auth.TokenCache;
import io.cairn.auth.TokenState;
import io.cairn.auth.Verdict;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import java.net.SocketAddress;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Checks every request's bearer token: the front ends say what a request needs ({@link Need}),
 * {@link Access} decides, and this class supplies what it decides on — the node's own
 * {@link AdminCredential}, then what the {@link TokenCache} trusts, then one read of the
 * {@link TokenStore} per id at a time (concurrent requests with the same unknown id share it).
 *
 * <p>Fails closed: a token the store cannot be asked about in {@code lookupTimeout} is refused
 * with {@code auth_unavailable} (503, retryable), never let through. Every refusal is counted
 * and written to the audit log. Thread-safe.
 */
public final class Authenticator {
    /** Counts refusals and lookups; the node binds it to its metrics. */
    public interface Sink {
        Sink NONE = new Sink() {
            @Override
            public void refused(int status, String reason, String routeClass) {}

            @Override
            public void lookup(String result) {}
        };

        void refused(int status, String reason, String routeClass);

        /** A token lookup: {@code cached}, {@code store}, {@code unavailable}, {@code shed}; {@code refresh}: a read ahead of a cache entry's end. */
        void lookup(String result);
    }

    private final AdminCredential admin;
    private final TokenStore store;
    private final TokenCache cache;
    private final long lookupTimeoutNanos;
    private final Clock wall;
    private final LongSupplier monotonicMillis;
    private final AuditSink audit;
    private final Sink sink;
    private final Map<String, CompletableFuture<TokenState>> reading = new ConcurrentHashMap<>();
    private final int maxLookups;
    private final AtomicInteger lookups = new AtomicInteger();
    // At most maxAuditedRefusalsPerSecond audited refusals in any second.
    private final FloodGate audited;

    public Authenticator(AdminCredential admin, TokenStore store, TokenCache cache, long lookupTimeoutMillis, int maxLookups,
                         int maxAuditedRefusalsPerSecond, Clock wall, LongSupplier monotonicMillis, AuditSink audit, Sink sink) {
        this.maxLookups = maxLookups;
        this.audited = new FloodGate(maxAuditedRefusalsPerSecond, monotonicMillis);
        this.admin = admin;
        this.store = store;
        this.cache = cache;
        this.lookupTimeoutNanos = lookupTimeoutMillis * 1_000_000L;
        this.wall = wall;
        this.monotonicMillis = monotonicMillis;
        this.audit = audit;
        this.sink = sink;
    }

    /**
     * The check of a request with a body, while the body arrives: completes with the refusal, or
     * with null to go on (the request is decided again, from the cache, once its body is read). At
     * once when the header settles it (missing or malformed, this node's admin credential, a token
     * the cache knows, or a lookup shed at {@code maxLookups}); else when the token's store read
     * ends. A failed read is left to the request's own check, which reports it. A refusal is
     * counted and audited when the caller takes it ({@link Supplier#get}): only if it ends the
     * request, which the request's own check may have done first. Never completes exceptionally.
     */
    public CompletableFuture<Supplier<Verdict.Refused>> screen(List<String> authorization, Need need, SocketAddress remote) {
        Access.Presented p = Access.Presented.of(authorization);
        if (p.refusal() != null) {
            return CompletableFuture.completedFuture(() -> refused(p.refusal(), need, remote));
        }
        Credential presented = p.credential();
        TokenState own = admin.stateOf(presented.id());
        TokenState known = own != null ? own : cache.fresh(presented.id(), monotonicMillis.getAsLong());
        if (known != null) {
            return CompletableFuture.completedFuture(refusal(presented, known, need, remote));
        }
        CompletableFuture<TokenState> lookup = lookUp(presented.id());
        if (lookup == null) {
            return CompletableFuture.completedFuture(() -> shed(presented));
        }
        return lookup.handle((state, error) -> {
            if (error != null) {
                return null;
            }
            sink.lookup("store");
            return refusal(presented, state, need, remote);
        });
    }

    /** The refusal of a request whose token could not be looked up because {@code maxLookups} reads already run; counted. */
    private Verdict.Refused shed(Credential presented) {
        sink.lookup("shed");
        return new Verdict.Refused(ErrorCode.OVERLOADED, "shed", presented.id(),
                "the node is already looking up " + maxLookups + " tokens (auth.maxConcurrentLookups); nothing was done; retry shortly");
    }

    /** The refusal of {@code presented} in {@code state} for {@code need}, counted and audited when taken; null when allowed. */
    private Supplier<Verdict.Refused> refusal(Credential presented, TokenState state, Need need, SocketAddress remote) {
        return Access.decide(presented, state, wall.millis(), need) instanceof Verdict.Refused r ? () -> refused(r, need, remote) : null;
    }

    /** Decides a request with this {@code Authorization} header (null when absent) and this need. Never completes exceptionally. */
    public CompletableFuture<Verdict> authorize(String authorization, Need need, SocketAddress remote) {
        return authorize(authorization == null ? List.of() : List.of(authorization), need, remote);
    }

    /** Decides a request with these {@code Authorization} headers (every one it sent) and this need. Never completes exceptionally. */
    public CompletableFuture<Verdict> authorize(List<String> authorization, Need need, SocketAddress remote) {
        Access.Presented p = Access.Presented.of(authorization);
        if (p.refusal() != null) {
            return CompletableFuture.completedFuture(refused(p.refusal(), need, remote));
        }
        Credential presented = p.credential();
        TokenState own = admin.stateOf(presented.id());
        if (own != null) {
            return CompletableFuture.completedFuture(decide(presented, own, need, remote));
        }
        long now = monotonicMillis.getAsLong();
        TokenState cached = cache.fresh(presented.id(), now);
        if (cached != null) {
            sink.lookup("cached");
            if (cache.dueForRefresh(presented.id(), now) && !reading.containsKey(presented.id()) && lookUp(presented.id()) != null) {
                sink.lookup("refresh");
            }
            return CompletableFuture.completedFuture(decide(presented, cached, need, remote));
        }
        CompletableFuture<TokenState> lookup = lookUp(presented.id());
        if (lookup == null) {
            return CompletableFuture.completedFuture(shed(presented));
        }
        return lookup.handle((state, error) -> {
            if (error != null) {
                sink.lookup("unavailable");
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                String why = cause instanceof CairnException c ? c.getMessage() : String.valueOf(cause);
                return new Verdict.Refused(ErrorCode.AUTH_UNAVAILABLE, "unavailable", presented.id(),
                        "the node could not look token " + presented.id() + " up (" + why + "); nothing was done; retry");
            }
            sink.lookup("store");
            return decide(presented, state, need, remote);
        });
    }

    /** A further need of a request already allowed (a batch found to write): decided on the same token, without another lookup. */
    public Verdict recheck(Verdict.Allowed allowed, Need need, SocketAddress remote) {
        Verdict v = Access.recheck(allowed, need);
        return v instanceof Verdict.Refused r ? refused(r, need, remote) : v;
    }

    /**
     * One store read of {@code id}, shared by every request that asks while it runs; null when
     * {@code maxLookups} reads are already running (a flood of made-up ids must not turn into a
     * flood of quorum reads).
     */
    private CompletableFuture<TokenState> lookUp(String id) {
        CompletableFuture<TokenState> mine = new CompletableFuture<>();
        CompletableFuture<TokenState> shared = reading.putIfAbsent(id, mine);
        if (shared != null) {
            return shared;
        }
        if (lookups.incrementAndGet() > maxLookups) {
            lookups.decrementAndGet();
            reading.remove(id, mine);
            return null;
        }
        mine.whenComplete((state, error) -> {
            reading.remove(id, mine);
            lookups.decrementAndGet();
        });
        long startedAt = monotonicMillis.getAsLong();
        store.read(id, System.nanoTime() + lookupTimeoutNanos).whenComplete((state, error) -> {
            if (error != null) {
                mine.completeExceptionally(error);
            } else {
                cache.put(id, state, startedAt);
                mine.complete(state);
            }
        });
        return mine.orTimeout(lookupTimeoutNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** Forgets what the cache holds about {@code id}: this node just changed it. */
    public void forget(String id) {
        cache.invalidate(id, monotonicMillis.getAsLong());
    }

    private Verdict decide(Credential presented, TokenState state, Need need, SocketAddress remote) {
        Verdict v = Access.decide(presented, state, wall.millis(), need);
        return v instanceof Verdict.Refused r ? refused(r, need, remote) : v;
    }

    private Verdict.Refused refused(Verdict.Refused r, Need need, SocketAddress remote) {
        sink.refused(r.code() == ErrorCode.FORBIDDEN ? 403 : 401, r.reason(), need.routeClass());
        // A flood of bad requests must not rotate the administrative events out of the bounded
        // audit log: -1 leaves this one out (metrics still count it), else how many were left out before it.
        long left = audited.pass();
        if (left >= 0) {
            Map<String, Object> details = new java.util.LinkedHashMap<>();
            details.put("route", need.routeClass());
            details.put("needs", need.toString());
            if (left > 0) {
                details.put("refusalsNotAuditedBefore", left);
            }
            audit.record("auth.refused", r.reason(), r.tokenId() == null ? "anonymous" : "token:" + r.tokenId(),
                    remote == null ? null : remote.toString(), details);
        }
        return r;
    }
}
