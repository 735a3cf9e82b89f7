package io.cairn.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Pattern;

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
    private static final Pattern ID = Pattern.compile("[0-9a-f]{16}");
    private static final Pattern TEXT = Pattern.compile("cairn_[0-9a-f]{16}_[A-Za-z0-9_-]{43}");
    private static final String BEARER = "bearer ";

    public Credential {
        if (!validId(id) || secret.length != SECRET_BYTES) {
            throw new IllegalArgumentException("not a credential");
        }
        secret = secret.clone();
    }

    public static boolean validId(String id) {
        return id != null && ID.matcher(id).matches();
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
        if (text == null || text.length() != TEXT_LENGTH || !TEXT.matcher(text).matches()) {
            return null;
        }
        String id = text.substring(PREFIX.length(), PREFIX.length() + 2 * ID_BYTES);
        byte[] secret = Base64.getUrlDecoder().decode(text.substring(PREFIX.length() + 2 * ID_BYTES + 1));
        if (secret.length != SECRET_BYTES) {
            return null;
        }
        // base64url has spare bits in its last character: only the canonical text is accepted, so
        // one secret has exactly one spelling.
        Credential c = new Credential(id, secret);
        return c.text().equals(text) ? c : null;
    }

    /**
     * Parses an {@code Authorization} header value ({@code Bearer <token>}, the scheme
     * case-insensitive), or returns null when it is not a well-formed bearer token.
     */
    public static Credential fromAuthorization(String header) {
        if (header == null || header.length() != BEARER.length() + TEXT_LENGTH
                || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return null;
        }
        return parse(header.substring(BEARER.length()));
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
            return MessageDigest.getInstance("SHA-256").digest(secret);
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

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
