package io.cairn.auth;

/**
 * Everything the store says about one token id: the token (null when there is none), its
 * revocation (null when not revoked) and the early end a rotation gave it (null when none).
 * Composed from three separately stored entries, each written once, so a revocation can never
 * be lost to a concurrent write of the token itself.
 */
public record TokenState(Token token, TokenCodec.Marker revoked, TokenCodec.Marker ends) {
    public static final TokenState ABSENT = new TokenState(null, null, null);

    /** The moment the token stops working, whichever comes first of its expiry and an early end; {@link Token#NEVER} for never. */
    public long endsAtMillis() {
        long expiry = token == null ? Token.NEVER : token.expiresAtMillis();
        if (ends == null) {
            return expiry;
        }
        return expiry == Token.NEVER ? ends.atMillis() : Math.min(expiry, ends.atMillis());
    }

    public boolean liveAt(long nowMillis) {
        long end = endsAtMillis();
        return token != null && revoked == null && (end == Token.NEVER || nowMillis < end);
    }
}
