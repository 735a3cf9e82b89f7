package io.cairn.client;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Keys and namespaces as they appear in a URL. A key is one path segment (docs/api.md, "Keys"):
 * its UTF-8 bytes, every byte but RFC 3986's unreserved characters percent-encoded, so {@code /}
 * becomes {@code %2F} and {@code +} {@code %2B}. The keys {@code .} and {@code ..} are encoded
 * whole ({@code %2E}), so that nothing between the client and the node can take them for dot
 * segments and rewrite the path.
 */
final class Keys {
    /** A namespace's name: the server's rule, checked early for a clear message. */
    private static final Pattern NAMESPACE = Pattern.compile("[a-z][a-z0-9_-]{0,62}");
    static final String DEFAULT_NAMESPACE = "default";
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private Keys() {}

    /** The key's UTF-8 bytes; an empty key or one that is not valid Unicode (an unpaired surrogate) is refused. */
    static byte[] utf8(String key) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("a key is at least one character");
        }
        try {
            ByteBuffer b = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(key));
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("the key is not valid Unicode (an unpaired surrogate): " + key.replaceAll("[\\p{Cs}]", "?"));
        }
    }

    /** The key as one percent-encoded path segment. */
    static String segment(String key) {
        byte[] bytes = utf8(key);
        boolean dots = key.equals(".") || key.equals("..");
        StringBuilder sb = new StringBuilder(bytes.length * 3);
        for (byte b : bytes) {
            int c = b & 0xFF;
            if (!dots && unreserved(c)) {
                sb.append((char) c);
            } else {
                sb.append('%').append(HEX[c >> 4]).append(HEX[c & 15]);
            }
        }
        return sb.toString();
    }

    private static boolean unreserved(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    }

    /** A namespace's name, checked; {@code null} and {@code default} both mean the default namespace (returned as null). */
    static String namespace(String name) {
        if (name == null || name.equals(DEFAULT_NAMESPACE)) {
            return null;
        }
        if (!NAMESPACE.matcher(name).matches()) {
            throw new IllegalArgumentException("a namespace name matches [a-z][a-z0-9_-]{0,62}, got '" + name + "'");
        }
        return name;
    }

    /** The path of a key: {@code /kv/{key}} in the default namespace, {@code /ns/{name}/kv/{key}} in another. */
    static String path(String namespace, String key) {
        return collection(namespace) + "/" + segment(key);
    }

    /** The path of a namespace's key space, where batches go: {@code /kv} or {@code /ns/{name}/kv}. */
    static String collection(String namespace) {
        return namespace == null ? "/kv" : "/ns/" + namespace + "/kv";
    }
}
