package io.cairn.server.security;

import io.cairn.auth.Credential;
import io.cairn.auth.Role;
import io.cairn.auth.Token;
import io.cairn.auth.TokenCodec;
import io.cairn.auth.TokenState;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Token management behind {@code /admin/auth/tokens}: create, show, list, revoke and rotate.
 * Every token made here carries an expiry (at most {@code maxTtl}); its secret is shown once, in
 * the answer that creates it, and only its hash is stored. A revocation or rotation made on this
 * node takes effect here at once and on every other node within their token cache time.
 */
public final class TokenAdmin {
    public static final int MAX_PAGE = 500;

    private final TokenStore store;
    private final Authenticator authenticator;
    private final AdminCredential admin;
    private final Duration defaultTtl;
    /** The shortest lifetime a token, or an old token's grace, may have: a shorter one could end before it is used. */
    static final Duration MIN_LIFETIME = Duration.ofSeconds(1);
    private final Duration maxTtl;
    private final Clock clock;
    private final AuditSink audit;

    public TokenAdmin(TokenStore store, Authenticator authenticator, AdminCredential admin, Duration defaultTtl, Duration maxTtl, Clock clock,
                      AuditSink audit) {
        this.store = store;
        this.authenticator = authenticator;
        this.admin = admin;
        this.defaultTtl = defaultTtl;
        this.maxTtl = maxTtl;
        this.clock = clock;
        this.audit = audit;
    }

    public Path adminFile() {
        return admin.file();
    }

    /** A request to make a token: its name, roles (role texts) and life (null: the default). */
    public record Create(String name, List<String> roles, Duration ttl) {}

    public CompletableFuture<Map<String, Object>> create(Create request, String by, String from, long deadlineNanos) {
        if (!Token.validName(request.name())) {
            throw new CairnException(ErrorCode.INVALID_PARAMETER, "name must be 1-64 characters: letters, digits and ._@:+/=- (not first)");
        }
        if (request.roles() == null || request.roles().isEmpty() || request.roles().size() > Token.MAX_ROLES) {
            throw new CairnException(ErrorCode.INVALID_PARAMETER, "roles must list 1 to " + Token.MAX_ROLES
                    + " roles: read:NAMESPACE, write:NAMESPACE, admin:NAMESPACE (NAMESPACE or * for all) or metrics");
        }
        List<Role> roles = new ArrayList<>();
        for (String r : request.roles()) {
            try {
                Role role = Role.parse(r);
                if (!roles.contains(role)) {
                    roles.add(role);
                }
            } catch (IllegalArgumentException e) {
                throw new CairnException(ErrorCode.INVALID_PARAMETER, e.getMessage());
            }
        }
        Duration ttl = request.ttl() == null ? defaultTtl : request.ttl();
        if (ttl.compareTo(MIN_LIFETIME) < 0 || ttl.compareTo(maxTtl) > 0) {
            throw new CairnException(ErrorCode.INVALID_PARAMETER, "ttl must be at least 1s and at most auth.maxTokenTtl (" + maxTtl + ")");
        }
        return issue(request.name(), roles, ttl, by, from, deadlineNanos, Map.of());
    }

    private CompletableFuture<Map<String, Object>> issue(String name, List<Role> roles, Duration ttl, String by, String from,
                                                         long deadlineNanos, Map<String, Object> extra) {
        long now = clock.millis();
        Credential c = AdminCredential.random();
        Token t = new Token(c.id(), name, c.secretHash(), roles, now, now + ttl.toMillis(), creator(by));
        return store.create(t, now, deadlineNanos).thenApply(v -> {
            audit.record("auth.token.created", "done", by, from, Map.of("token", t.id(), "name", t.name(), "roles", t.roles().toString(),
                    "expiresAt", Instant.ofEpochMilli(t.expiresAtMillis()).toString()));
            Map<String, Object> m = describe(new TokenState(t, null, null), now);
            m.putAll(extra);
            m.put("token", c.text());
            return m;
        });
    }

    private static String creator(String by) {
        String printable = by.replaceAll("[^ -~]", "?");
        return printable.length() > 128 ? printable.substring(0, 128) : printable;
    }

    public CompletableFuture<Map<String, Object>> show(String id, long deadlineNanos) {
        return existing(id, deadlineNanos).thenApply(s -> describe(s, clock.millis()));
    }

    /** Up to {@code limit} tokens after {@code afterId}, each as a majority read shows it now. */
    public CompletableFuture<Map<String, Object>> list(String afterId, int limit, long deadlineNanos) {
        if (limit < 1 || limit > MAX_PAGE) {
            throw new CairnException(ErrorCode.INVALID_PARAMETER, "limit must be 1.." + MAX_PAGE);
        }
        List<String> ids = store.localIds(afterId, limit);
        List<CompletableFuture<TokenState>> states = ids.stream().map(id -> store.read(id, deadlineNanos)).toList();
        return CompletableFuture.allOf(states.toArray(CompletableFuture[]::new)).thenApply(v -> {
            long now = clock.millis();
            List<Map<String, Object>> tokens = new ArrayList<>();
            for (CompletableFuture<TokenState> s : states) {
                if (s.join().token() != null) {
                    tokens.add(describe(s.join(), now));
                }
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("tokens", tokens);
            if (ids.size() == limit) {
                m.put("next", ids.get(ids.size() - 1));
            }
            return m;
        });
    }

    public CompletableFuture<Map<String, Object>> revoke(String id, String by, String from, long deadlineNanos) {
        return existing(id, deadlineNanos).thenCompose(s -> {
            long now = clock.millis();
            if (s.revoked() != null) {
                return CompletableFuture.completedFuture(describe(s, now));
            }
            TokenCodec.Marker m = new TokenCodec.Marker(now, creator(by));
            return store.revoke(s.token(), m, now, deadlineNanos).thenApply(v -> {
                authenticator.forget(id);
                audit.record("auth.token.revoked", "done", by, from, Map.of("token", id, "name", s.token().name()));
                return describe(new TokenState(s.token(), m, s.ends()), now);
            });
        });
    }

    /**
     * A new token with the old one's name, roles and life; the old one keeps working for
     * {@code grace} (zero: it is revoked at once), so clients can move over without downtime.
     */
    public CompletableFuture<Map<String, Object>> rotate(String id, Duration grace, String by, String from, long deadlineNanos) {
        if (grace.isNegative() || grace.compareTo(Duration.ofDays(30)) > 0 || (!grace.isZero() && grace.compareTo(MIN_LIFETIME) < 0)) {
            throw new CairnException(ErrorCode.INVALID_PARAMETER, "grace must be 0 (revoke at once) or between 1s and 30d");
        }
        return existing(id, deadlineNanos).thenCompose(s -> {
            long now = clock.millis();
            if (!s.liveAt(now)) {
                throw new CairnException(ErrorCode.INVALID_PARAMETER, "token " + id + " is " + state(s, now) + "; only an active token can be rotated");
            }
            if (s.ends() != null) {
                // A token ends early once: a second rotation would leave two successors live.
                throw new CairnException(ErrorCode.INVALID_PARAMETER, "token " + id + " was already rotated (it ends at "
                        + Instant.ofEpochMilli(s.ends().atMillis()) + "); rotate its successor, or revoke it to end it now");
            }
            Token old = s.token();
            Duration life = Duration.ofMillis(Math.max(1, old.expiresAtMillis() - old.createdAtMillis()));
            // The old token never outlives its own expiry, whatever the grace.
            long endsAt = s.endsAtMillis() == Token.NEVER ? now + grace.toMillis() : Math.min(now + grace.toMillis(), s.endsAtMillis());
            TokenCodec.Marker m = new TokenCodec.Marker(endsAt, creator(by));
            CompletableFuture<Void> retire = grace.isZero() ? store.revoke(old, m, now, deadlineNanos) : store.end(old, m, now, deadlineNanos);
            return issue(old.name(), old.roles(), life.compareTo(maxTtl) > 0 ? maxTtl : life, by, from, deadlineNanos,
                    Map.of("replaces", id, "replacedEndsAt", Instant.ofEpochMilli(m.atMillis()).toString()))
                    .thenCombine(retire, (issued, v) -> {
                        authenticator.forget(id);
                        audit.record("auth.token.rotated", "done", by, from, Map.of("token", id, "replacement", issued.get("id"),
                                "graceMillis", grace.toMillis()));
                        return issued;
                    });
        });
    }

    private CompletableFuture<TokenState> existing(String id, long deadlineNanos) {
        if (!Credential.validId(id)) {
            throw new CairnException(ErrorCode.INVALID_PARAMETER, "a token id is 16 lowercase hex digits, got '"
                    + (id.length() > 40 ? id.substring(0, 40) + "..." : id) + "'");
        }
        if (id.equals(admin.id())) {
            throw new CairnException(ErrorCode.INVALID_PARAMETER, "token " + id + " is this node's admin credential (" + admin.file()
                    + "); rotate it with bin/cairn auth admin-token --rotate on the node's machine");
        }
        return store.read(id, deadlineNanos).thenApply(s -> {
            if (s.token() == null) {
                throw new CairnException(ErrorCode.TOKEN_NOT_FOUND, "no token " + id);
            }
            return s;
        });
    }

    private static String state(TokenState s, long now) {
        return s.revoked() != null ? "revoked" : s.liveAt(now) ? "active" : "expired";
    }

    private static Map<String, Object> describe(TokenState s, long now) {
        Token t = s.token();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", t.id());
        m.put("name", t.name());
        m.put("roles", t.roles().stream().map(Role::toString).toList());
        m.put("state", state(s, now));
        m.put("createdAt", Instant.ofEpochMilli(t.createdAtMillis()).toString());
        m.put("createdBy", t.createdBy());
        m.put("expiresAt", Instant.ofEpochMilli(s.endsAtMillis()).toString());
        if (s.revoked() != null) {
            m.put("revokedAt", Instant.ofEpochMilli(s.revoked().atMillis()).toString());
            m.put("revokedBy", s.revoked().by());
        }
        return m;
    }
}
