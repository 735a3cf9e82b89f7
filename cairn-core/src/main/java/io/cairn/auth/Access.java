package io.cairn.auth;

import io.cairn.error.ErrorCode;

/**
 * The authorization rule, one pure function for every front end: given the credential a request
 * presents, what the store says about its id, the time, and what the request needs, allow it or
 * refuse it with 401 or 403.
 *
 * <p>What a refusal tells the client depends on what the client proved: without the right
 * secret every refusal is "unknown token" (so ids cannot be probed for existence, expiry or
 * revocation); with it, the client learns that its token expired or was revoked, or which role
 * the request needed.
 */
public final class Access {
    private Access() {}

    public static Verdict.Refused missing() {
        return new Verdict.Refused(ErrorCode.UNAUTHENTICATED, "missing", null,
                "this route needs a bearer token: send 'Authorization: Bearer cairn_...' (bin/cairn reads the admin token "
                        + "from the node's data directory; see docs/security.md)");
    }

    public static Verdict.Refused malformed() {
        return new Verdict.Refused(ErrorCode.UNAUTHENTICATED, "malformed", null,
                "the Authorization header is not 'Bearer ' followed by a Cairn token (cairn_<16 hex>_<43 base64url>)");
    }

    public static Verdict.Refused several() {
        return new Verdict.Refused(ErrorCode.UNAUTHENTICATED, "malformed", null,
                "the Authorization header is given more than once; send exactly one 'Authorization: Bearer cairn_...'");
    }

    /**
     * What a request's {@code Authorization} headers (every one it sent, in order) present: one
     * credential, or the refusal of none, of several, or of one that is not a Cairn bearer token.
     */
    public record Presented(Credential credential, Verdict.Refused refusal) {
        public static Presented of(java.util.List<String> headers) {
            if (headers.isEmpty()) {
                return new Presented(null, missing());
            }
            if (headers.size() > 1) {
                return new Presented(null, several());
            }
            Credential c = Credential.fromAuthorization(headers.get(0));
            return c == null ? new Presented(null, malformed()) : new Presented(c, null);
        }
    }

    /** Decides a request presenting {@code presented}, whose id the store resolved to {@code state}. */
    public static Verdict decide(Credential presented, TokenState state, long nowMillis, Need need) {
        Token t = state.token();
        if (t == null || !t.id().equals(presented.id()) || !t.secretMatches(presented)) {
            return new Verdict.Refused(ErrorCode.UNAUTHENTICATED, "unknown", presented.id(), "unknown token " + presented.id());
        }
        if (state.revoked() != null) {
            return new Verdict.Refused(ErrorCode.UNAUTHENTICATED, "revoked", t.id(), "token " + t.id() + " (" + t.name() + ") was revoked");
        }
        if (!state.liveAt(nowMillis)) {
            return new Verdict.Refused(ErrorCode.UNAUTHENTICATED, "expired", t.id(), "token " + t.id() + " (" + t.name() + ") has expired");
        }
        return t.allows(need) ? new Verdict.Allowed(t) : forbidden(t, need);
    }

    /** A further need of a request {@code allowed} already let in (a batch found to write), decided on the same token. */
    public static Verdict recheck(Verdict.Allowed allowed, Need need) {
        return allowed.token().allows(need) ? allowed : forbidden(allowed.token(), need);
    }

    private static Verdict.Refused forbidden(Token t, Need need) {
        return new Verdict.Refused(ErrorCode.FORBIDDEN, "forbidden", t.id(), "token " + t.id() + " (" + t.name() + ") has roles "
                + t.roles() + "; this request needs " + need);
    }
}
