package io.cairn.auth;

import io.cairn.error.ErrorCode;

/** What {@link Access} decided about one request. */
public sealed interface Verdict {
    /** Allowed, on behalf of this token. */
    record Allowed(Token token) implements Verdict {
        public String tokenId() {
            return token.id();
        }

        /** Who the token says it is: its name. */
        public String principal() {
            return token.name();
        }
    }

    /**
     * Refused: {@code code} is {@link ErrorCode#UNAUTHENTICATED} (401) or
     * {@link ErrorCode#FORBIDDEN} (403); {@code reason} is a short label for metrics and the audit
     * log (missing, malformed, unknown, expired, revoked, forbidden); {@code message} is for the
     * client and never says more than the presented credential proves.
     */
    record Refused(ErrorCode code, String reason, String tokenId, String message) implements Verdict {}
}
