package io.cairn.clock;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one duration grammar of Cairn's settings, command line and load generator: one or more
 * parts of a number (fractions allowed) and a unit — {@code ms}, {@code s}, {@code m}, {@code h},
 * {@code d} — such as {@code 500ms}, {@code 30s}, {@code 1m30s}, {@code 1.5h}; a bare number in
 * the caller's unit; or ISO-8601 such as {@code PT30S}. Never negative.
 */
public final class Durations {
    private static final Pattern PART = Pattern.compile("(\\d{1,18}(?:\\.\\d{1,9})?)(ms|s|m|h|d)");
    private static final Pattern BARE = Pattern.compile("\\d{1,18}(?:\\.\\d{1,9})?");
    private static final int MAX_LENGTH = 64;

    private Durations() {}

    /** Parses {@code text}; a bare number counts in units of {@code bareUnitMillis}. */
    public static Duration parse(String text, long bareUnitMillis) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("'' is not a duration (use e.g. 500ms, 30s, 5m, 1m30s, 2h, 1d or a number of seconds)");
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c >= 0x7F) {
                throw new IllegalArgumentException("a duration is printable ASCII; got a character 0x" + Integer.toHexString(c)
                        + " (use e.g. 500ms, 30s, 5m, 1m30s, 2h, 1d or a number of seconds)");
            }
        }
        // Spaces between a number and its unit, or between parts, are allowed: "30 s", "1m 30s".
        String t = text.strip().toLowerCase(Locale.ROOT).replace(" ", "");
        if (t.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("'" + text + "' is too long to be a duration");
        }
        if (t.startsWith("p")) {
            try {
                Duration d = Duration.parse(t.toUpperCase(Locale.ROOT));
                if (d.isNegative()) {
                    throw new IllegalArgumentException("'" + text + "' is negative");
                }
                return d;
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("'" + text + "' is not a duration");
            }
        }
        if (BARE.matcher(t).matches()) {
            return scaled(t, bareUnitMillis * 1_000_000L, text);
        }
        Matcher m = PART.matcher(t);
        Duration total = Duration.ZERO;
        int at = 0;
        long previousUnit = Long.MAX_VALUE;
        while (at < t.length()) {
            if (!m.find(at) || m.start() != at) {
                throw new IllegalArgumentException("'" + text + "' is not a duration (use e.g. 500ms, 30s, 5m, 1m30s, 2h, 1d or a number of seconds)");
            }
            long unitNanos = switch (m.group(2)) {
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                case "h" -> 3_600_000_000_000L;
                case "d" -> 86_400_000_000_000L;
                default -> throw new IllegalStateException(m.group(2));
            };
            if (unitNanos >= previousUnit) {
                // "1h1h" or "1s1m" is more likely a slip than a sum anyone means.
                throw new IllegalArgumentException("'" + text + "' is not a duration: give each unit once, largest first (e.g. 1h30m)");
            }
            previousUnit = unitNanos;
            try {
                total = total.plus(scaled(m.group(1), unitNanos, text));
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("'" + text + "' is too long a duration");
            }
            at = m.end();
        }
        return total;
    }

    private static Duration scaled(String number, long unitNanos, String text) {
        java.math.BigDecimal nanos = new java.math.BigDecimal(number).multiply(java.math.BigDecimal.valueOf(unitNanos));
        java.math.BigDecimal seconds = nanos.divide(java.math.BigDecimal.valueOf(1_000_000_000L), 0, java.math.RoundingMode.DOWN);
        if (seconds.compareTo(java.math.BigDecimal.valueOf(Long.MAX_VALUE / 2)) > 0) {
            throw new IllegalArgumentException("'" + text + "' is too long a duration");
        }
        long wholeSeconds = seconds.longValueExact();
        long rest = nanos.subtract(seconds.multiply(java.math.BigDecimal.valueOf(1_000_000_000L))).setScale(0, java.math.RoundingMode.HALF_UP).longValue();
        return Duration.ofSeconds(wholeSeconds, rest);
    }
}
