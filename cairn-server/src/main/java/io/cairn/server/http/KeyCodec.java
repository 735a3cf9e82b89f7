package io.cairn.server.http;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Strict percent-decoding of keys (path segments) and query strings.
 *
 * <p>A key is one path segment: percent-decoded, then required to be well-formed UTF-8. A '/'
 * inside a key must be sent as %2F. '+' is a literal plus in paths. Anything malformed is a 400,
 * never guessed at.
 */
public final class KeyCodec {
    private KeyCodec() {}

    /** Decodes a key segment to its UTF-8 bytes, enforcing the key length limit. */
    public static byte[] decodeKey(String segment, int maxKeyBytes) {
        if (segment.isEmpty()) {
            throw new CairnException(ErrorCode.INVALID_KEY, "the key is empty");
        }
        if (segment.indexOf('/') >= 0) {
            throw new CairnException(ErrorCode.INVALID_KEY, "a key is one path segment; encode '/' inside a key as %2F");
        }
        if (segment.length() > 3 * maxKeyBytes) {
            throw new CairnException(ErrorCode.KEY_TOO_LONG, "the key is longer than " + maxKeyBytes + " bytes");
        }
        byte[] key = percentDecode(segment, false, "key");
        if (key.length > maxKeyBytes) {
            throw new CairnException(ErrorCode.KEY_TOO_LONG, "the key is " + key.length + " bytes; the limit is " + maxKeyBytes);
        }
        requireUtf8(key, "key");
        return key;
    }

    /** Validates that a key given as a Java string (from JSON) is non-empty and within the limit. */
    public static byte[] keyFromText(String text, int maxKeyBytes) {
        if (text.isEmpty()) {
            throw new CairnException(ErrorCode.INVALID_KEY, "the key is empty");
        }
        byte[] key = strictUtf8(text, "key");
        if (key.length > maxKeyBytes) {
            throw new CairnException(ErrorCode.KEY_TOO_LONG, "the key is " + key.length + " bytes; the limit is " + maxKeyBytes);
        }
        return key;
    }

    /** UTF-8 bytes of a Java string, refusing unpaired surrogates instead of replacing them with '?'. */
    public static byte[] strictUtf8(String text, String what) {
        try {
            ByteBuffer b = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(java.nio.CharBuffer.wrap(text));
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        } catch (CharacterCodingException e) {
            throw new CairnException(what.equals("key") ? ErrorCode.INVALID_KEY : ErrorCode.MALFORMED_BATCH,
                    "the " + what + " contains an unpaired surrogate and is not valid Unicode");
        }
    }

    /** Parses {@code a=1&b=2}; a repeated parameter is an error, as is any malformed escape. */
    public static Map<String, String> decodeQuery(String query) {
        Map<String, String> params = new LinkedHashMap<>();
        if (query == null || query.isEmpty()) {
            return params;
        }
        for (String pair : query.split("&", -1)) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = text(percentDecode(eq < 0 ? pair : pair.substring(0, eq), true, "query parameter"), "query parameter");
            String value = eq < 0 ? "" : text(percentDecode(pair.substring(eq + 1), true, "query parameter"), "query parameter");
            if (params.put(name, value) != null) {
                throw new CairnException(ErrorCode.INVALID_PARAMETER, "query parameter '" + name + "' is given more than once");
            }
        }
        return params;
    }

    static byte[] percentDecode(String s, boolean plusIsSpace, String what) {
        byte[] out = new byte[s.length() * 4];
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw new CairnException(what.equals("key") ? ErrorCode.INVALID_KEY : ErrorCode.INVALID_PARAMETER,
                            "the " + what + " has a truncated percent escape at position " + i);
                }
                int hi = hex(s.charAt(i + 1));
                int lo = hex(s.charAt(i + 2));
                if (hi < 0 || lo < 0) {
                    throw new CairnException(what.equals("key") ? ErrorCode.INVALID_KEY : ErrorCode.INVALID_PARAMETER,
                            "the " + what + " has an invalid percent escape '" + s.substring(i, i + 3) + "' at position " + i);
                }
                out[n++] = (byte) ((hi << 4) | lo);
                i += 2;
            } else if (c == '+' && plusIsSpace) {
                out[n++] = ' ';
            } else if (c < 0x80) {
                out[n++] = (byte) c;
            } else {
                // Netty hands us the raw request line as ISO-8859-1; non-ASCII bytes are passed through
                // as-is and validated as UTF-8 afterwards.
                if (c > 0xFF) {
                    throw new CairnException(what.equals("key") ? ErrorCode.INVALID_KEY : ErrorCode.INVALID_PARAMETER,
                            "the " + what + " contains a character that is not a byte");
                }
                out[n++] = (byte) c;
            }
        }
        return Arrays.copyOf(out, n);
    }

    /** An ASCII hex digit's value, or -1 (Character.digit would also take non-ASCII digits). */
    private static int hex(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private static String text(byte[] bytes, String what) {
        requireUtf8(bytes, what);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static void requireUtf8(byte[] bytes, String what) {
        try {
            StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
        } catch (CharacterCodingException e) {
            throw new CairnException(what.equals("key") ? ErrorCode.INVALID_KEY : ErrorCode.INVALID_PARAMETER,
                    "the " + what + " is not valid UTF-8 after percent-decoding");
        }
    }
}
