package io.cairn.auth;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;

/**
 * A bearer token as a client presents it: {@code cairn_<id>_<secret>}, the id 16 lowercase hex
 * digits (public: it names the token in listings, logs and the store) and the secret 32 random
 * bytes in unpadded base64url. Only the secret's SHA-256 is ever stored: a slow password hash is
 * not needed because the secret is 256 random bits, not something a person chose.
 */
public record Credential(String id, byte[] secret) {
    public static final String PREFIX = "cairn_";
    public static final int ID_BYTES = 8;
    public static final int SECRET_BYTES = 32;
    /** The length of a well-formed token's text. */
    public static final int TEXT_LENGTH = PREFIX.length() + 2 * ID_BYTES + 1 + 43;
    private static final String BEARER = "bearer ";

    public Credential {
        if (!validId(id) || secret.length != SECRET_BYTES) {
            throw new IllegalArgumentException("not a credential");
        }
        secret = secret.clone();
    }

    public static boolean validId(String id) {
        if (id == null || id.length() != 2 * ID_BYTES) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    /** A new credential from {@code ID_BYTES + SECRET_BYTES} random bytes (the caller's entropy). */
    public static Credential fromRandom(byte[] random) {
        if (random.length != ID_BYTES + SECRET_BYTES) {
            throw new IllegalArgumentException("need " + (ID_BYTES + SECRET_BYTES) + " random bytes");
        }
        byte[] secret = new byte[SECRET_BYTES];
        System.arraycopy(random, ID_BYTES, secret, 0, SECRET_BYTES);
        return new Credential(HexFormat.of().formatHex(random, 0, ID_BYTES), secret);
    }

    /** Parses a token's text, or returns null when it is not one. */
    public static Credential parse(String text) {
        return text == null || text.length() != TEXT_LENGTH ? null : parse(text, 0);
    }

    /**
     * Parses an {@code Authorization} header value ({@code Bearer <token>}, the scheme
     * case-insensitive, one or more spaces before the token), or returns null when it is not a
     * well-formed bearer token.
     */
    public static Credential fromAuthorization(String header) {
        if (header == null || header.length() > BEARER.length() + TEXT_LENGTH + MAX_EXTRA_SPACES
                || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return null;
        }
        // RFC 7235: one or more spaces after the scheme.
        int from = BEARER.length();
        while (from < header.length() && header.charAt(from) == ' ') {
            from++;
        }
        return header.length() - from != TEXT_LENGTH ? null : parse(header, from);
    }

    private static final int MAX_EXTRA_SPACES = 16;

    /**
     * The token whose {@link #TEXT_LENGTH} characters start at {@code from}, or null. Checked by
     * hand rather than by a regular expression: every request of an authenticated node goes
     * through here.
     */
    private static Credential parse(String s, int from) {
        if (!s.startsWith(PREFIX, from)) {
            return null;
        }
        int idStart = from + PREFIX.length();
        int secretStart = idStart + 2 * ID_BYTES + 1;
        String id = s.substring(idStart, secretStart - 1);
        if (!validId(id) || s.charAt(secretStart - 1) != '_') {
            return null;
        }
        byte[] secret = new byte[SECRET_BYTES];
        int bits = 0;
        int acc = 0;
        int out = 0;
        for (int i = secretStart; i < from + TEXT_LENGTH; i++) {
            int v = base64url(s.charAt(i));
            if (v < 0) {
                return null;
            }
            acc = (acc << 6) | v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                secret[out++] = (byte) (acc >> bits);
                acc &= (1 << bits) - 1;
            }
        }
        // 43 characters carry 258 bits for 256: the 2 left over must be zero, so that one secret
        // has exactly one spelling.
        if (out != SECRET_BYTES || acc != 0) {
            return null;
        }
        return new Credential(id, secret);
    }

    private static int base64url(char c) {
        if (c >= 'A' && c <= 'Z') {
            return c - 'A';
        }
        if (c >= 'a' && c <= 'z') {
            return c - 'a' + 26;
        }
        if (c >= '0' && c <= '9') {
            return c - '0' + 52;
        }
        return c == '-' ? 62 : c == '_' ? 63 : -1;
    }


    public String text() {
        return PREFIX + id + "_" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    }

    @Override
    public byte[] secret() {
        return secret.clone();
    }

    /** The SHA-256 of the secret: what the store keeps. */
    public byte[] secretHash() {
        return hash(secret);
    }

    /** Whether this credential's secret hashes to {@code storedHash}, compared in constant time. */
    public boolean matches(byte[] storedHash) {
        return MessageDigest.isEqual(hash(secret), storedHash);
    }

    static byte[] hash(byte[] secret) {
        try {
            // A clone of a ready digest costs less than a provider lookup, on every request.
            return ((MessageDigest) SHA256.clone()).digest(secret);
        } catch (CloneNotSupportedException e) {
            return sha256().digest(secret);
        }
    }

    private static final MessageDigest SHA256 = sha256();

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Credential c && c.id.equals(id) && MessageDigest.isEqual(c.secret, secret);
    }

    @Override
    public int hashCode() {
        return id.hashCode();
    }

    /** Never the secret: credentials end up in exceptions and logs. */
    @Override
    public String toString() {
        return "token " + id;
    }
}
