package io.cairn.auth;

import io.cairn.namespace.Namespace;
import io.cairn.placement.Partitioner;
import java.nio.charset.StandardCharsets;

/**
 * Where a token's entries live in the replicated {@code auth} namespace: the token under
 * {@code t:<id>}, its revocation under {@code r:<id>}, a rotation's early end under
 * {@code e:<id>}. The namespace has a single partition, so every entry lives on the same replica
 * set and one replica's scan of the {@code t:} range lists every token it holds.
 */
public final class TokenKeys {
    public static final int NAMESPACE_ID = 3;
    public static final String NAMESPACE_NAME = "auth";
    public static final int PARTITIONS = 1;
    private static final String TOKEN = "t:";

    private TokenKeys() {}

    /** The namespace tokens live in: one partition, no default expiry, never a sloppy quorum. */
    public static Namespace namespace() {
        return new Namespace(NAMESPACE_ID, NAMESPACE_NAME, new Partitioner(PARTITIONS), 0, true);
    }

    public static byte[] token(String id) {
        return key(TOKEN, id);
    }

    public static byte[] revoked(String id) {
        return key("r:", id);
    }

    public static byte[] ends(String id) {
        return key("e:", id);
    }

    /** The first key of the token range after {@code afterId} (or its start when null). */
    public static byte[] tokensFrom(String afterId) {
        if (afterId == null) {
            return TOKEN.getBytes(StandardCharsets.US_ASCII);
        }
        // The token key itself followed by a 0 byte: the first key after it.
        byte[] k = token(afterId);
        return java.util.Arrays.copyOf(k, k.length + 1);
    }

    /** The end (exclusive) of the token range. */
    public static byte[] tokensEnd() {
        return "t;".getBytes(StandardCharsets.US_ASCII);
    }

    /** The id of a token key, or null when {@code key} is not one. */
    public static String idOfToken(byte[] key) {
        String s = new String(key, StandardCharsets.US_ASCII);
        if (!s.startsWith(TOKEN)) {
            return null;
        }
        String id = s.substring(TOKEN.length());
        return Credential.validId(id) ? id : null;
    }

    private static byte[] key(String prefix, String id) {
        if (!Credential.validId(id)) {
            throw new IllegalArgumentException("not a token id");
        }
        return (prefix + id).getBytes(StandardCharsets.US_ASCII);
    }
}
