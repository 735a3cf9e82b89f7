package io.cairn.auth;

import io.cairn.record.CorruptRecordException;

/**
 * Everything the store says about one token id: the token (null when there is none), its
 * revocation (null when not revoked) and the early end a rotation gave it (null when none).
 * Composed from three separately stored entries, each written once, so a revocation can never
 * be lost to a concurrent write of the token itself.
 */
public record TokenState(Token token, TokenCodec.Marker revoked, TokenCodec.Marker ends) {
    public static final TokenState ABSENT = new TokenState(null, null, null);
    /** What an entry that does not decode counts as: in force. */
    public static final TokenCodec.Marker UNREADABLE = new TokenCodec.Marker(0, "unreadable entry");

    /**
     * What the store's three entries for {@code id} say (each null when absent), never trusting
     * one that does not decode: a token entry that is corrupt, or holds another id, is no token;
     * a revocation or early end that is corrupt is in force.
     */
    public static TokenState decode(String id, byte[] token, byte[] revoked, byte[] ends) {
        Token t = null;
        if (token != null) {
            try {
                t = TokenCodec.decode(token);
                if (!t.id().equals(id)) {
                    t = null;
                }
            } catch (CorruptRecordException e) {
                t = null;
            }
        }
        return new TokenState(t, marker(revoked, true), marker(ends, false));
    }

    private static TokenCodec.Marker marker(byte[] bytes, boolean revocation) {
        if (bytes == null) {
            return null;
        }
        try {
            return revocation ? TokenCodec.decodeRevoked(bytes) : TokenCodec.decodeEnds(bytes);
        } catch (CorruptRecordException e) {
            return UNREADABLE;
        }
    }

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
