package io.cairn.server.http;

import io.cairn.error.CairnException;
import java.util.function.Function;

/**
 * The content type a put stores, and which every later read of the key sends back as its
 * {@code Content-Type} header: so it must be a value that header can carry. Checked where a put is
 * taken (a PUT's header, a batch's {@code contentType}), and again where a stored one is served,
 * since a disk (or a record an earlier release accepted) can hold anything.
 */
final class ContentTypes {
    /** Longest content type a put may store. */
    static final int MAX_LENGTH = 255;
    /** What a read answers for a stored content type that cannot be a header value. */
    static final String FALLBACK = "application/octet-stream";

    private ContentTypes() {}

    /** {@code value} when a put may store it (null: none given), else the failure {@code bad} makes of the reason. */
    static String checked(String value, String name, Function<String, CairnException> bad) {
        String problem = problem(value);
        if (problem != null) {
            throw bad.apply(name + " " + problem);
        }
        return value;
    }

    /** The header a read sends for a stored content type: {@link #FALLBACK} for none, or for one no header can carry. */
    static String served(String stored) {
        return stored == null || problem(stored) != null ? FALLBACK : stored;
    }

    private static String problem(String value) {
        if (value == null) {
            return null;
        }
        if (value.isBlank()) {
            return "is empty";
        }
        if (value.length() > MAX_LENGTH) {
            return "is longer than " + MAX_LENGTH + " characters";
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t') || c >= 0x7f) {
                return "may hold only printable ASCII characters (found U+" + String.format("%04X", (int) c) + " at index " + i + ")";
            }
        }
        return null;
    }
}
