package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.request.Limits;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.HashSet;
import java.util.Set;

/**
 * Fuzzes {@link KeyCodec} against a strict reference decoder: any input either decodes to
 * exactly what the reference says or is refused with a {@link CairnException}; no other
 * exception may escape. Seeds live in {@code KeyCodecFuzzTestInputs/<method>/}; the default
 * build replays them, {@code JAZZER_FUZZ=1} fuzzes.
 */
class KeyCodecFuzzTest {
    private static final int MAX_KEY = Limits.DEFAULTS.maxKeyBytes();

    /** A path segment as Netty hands it over: one char per request-line byte. */
    @FuzzTest(maxDuration = "10s")
    void decodeKey(byte[] input) {
        checkKey(new String(input, StandardCharsets.ISO_8859_1));
    }

    /** Any Java string, as a direct caller of the public API might pass. */
    @FuzzTest(maxDuration = "10s")
    void decodeKeyAnyText(FuzzedDataProvider data) {
        checkKey(data.consumeRemainingAsString());
    }

    @FuzzTest(maxDuration = "10s")
    void decodeQuery(byte[] input) {
        String query = new String(input, StandardCharsets.ISO_8859_1);
        // The reference reading: null when some pair is malformed or a name repeats.
        Map<String, String> expected = new java.util.LinkedHashMap<>();
        Set<String> names = new HashSet<>();
        for (String pair : query.split("&", -1)) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            byte[] name = reference(eq < 0 ? pair : pair.substring(0, eq), true);
            byte[] value = reference(eq < 0 ? "" : pair.substring(eq + 1), true);
            if (name == null || value == null || !names.add(new String(name, StandardCharsets.UTF_8))) {
                expected = null;
                break;
            }
            expected.put(new String(name, StandardCharsets.UTF_8), new String(value, StandardCharsets.UTF_8));
        }
        Map<String, String> params;
        try {
            params = KeyCodec.decodeQuery(query);
        } catch (CairnException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_PARAMETER);
            assertThat(expected).as("refused a valid query '%s'", query).isNull();
            return;
        }
        assertThat(expected).as("accepted an invalid query '%s'", query).isNotNull();
        assertThat(params).containsExactlyEntriesOf(expected);
    }

    private static void checkKey(String segment) {
        byte[] expected = referenceKey(segment);
        byte[] key;
        try {
            key = KeyCodec.decodeKey(segment, MAX_KEY);
        } catch (CairnException e) {
            assertThat(e.code()).isIn(ErrorCode.INVALID_KEY, ErrorCode.KEY_TOO_LONG);
            assertThat(expected).as("refused a valid key segment '%s'", segment).isNull();
            return;
        }
        assertThat(expected).as("accepted an invalid key segment '%s'", segment).isNotNull();
        assertThat(key).isEqualTo(expected);
        assertThat(key.length).isBetween(1, MAX_KEY);
        assertThat(isUtf8(key)).isTrue();
        // Encoding the decoded key gives a segment that decodes to the same key.
        assertThat(KeyCodec.decodeKey(TestNode.encodeKey(key), MAX_KEY)).isEqualTo(key);
    }

    /** The strict reading of a key segment, or null when it must be refused. */
    private static byte[] referenceKey(String segment) {
        if (segment.isEmpty() || segment.indexOf('/') >= 0) {
            return null;
        }
        byte[] bytes = reference(segment, false);
        if (bytes == null || bytes.length > MAX_KEY || !isUtf8(bytes)) {
            return null;
        }
        return bytes;
    }

    /** RFC 3986 percent-decoding: '%' must be followed by two ASCII hex digits; chars are bytes. */
    private static byte[] reference(String s, boolean plusIsSpace) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length() || !isAsciiHex(s.charAt(i + 1)) || !isAsciiHex(s.charAt(i + 2))) {
                    return null;
                }
                out.write(HEX.indexOf(Character.toLowerCase(s.charAt(i + 1))) << 4 | HEX.indexOf(Character.toLowerCase(s.charAt(i + 2))));
                i += 2;
            } else if (c == '+' && plusIsSpace) {
                out.write(' ');
            } else if (c > 0xFF) {
                return null;
            } else {
                out.write(c);
            }
        }
        byte[] bytes = out.toByteArray();
        if (plusIsSpace && !isUtf8(bytes)) {
            return null;
        }
        return bytes;
    }

    private static final String HEX = "0123456789abcdef";

    private static boolean isAsciiHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    private static boolean isUtf8(byte[] bytes) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }
}
