package io.cairn.server.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses the human forms of durations ("500ms", "30s", "5m", "24h", "7d", ISO-8601) and sizes ("64MiB"). */
public final class Units {
    private static final Pattern SIZE = Pattern.compile("(\\d{1,18})\\s*(b|kb|kib|mb|mib|gb|gib|tb|tib|k|m|g|t)?");

    private Units() {}

    /**
     * A duration; a bare number means {@code bareUnitMillis} units (1000 for seconds).
     *
     * @throws IllegalArgumentException with a message naming the accepted forms
     */
    public static Duration duration(String text, long bareUnitMillis) {
        return io.cairn.clock.Durations.parse(text, bareUnitMillis);
    }

    /** A size in bytes; binary multiples (k, KiB, MB and MiB all mean powers of 1024). */
    public static long bytes(String text) {
        Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a size (use e.g. 1048576, 512KiB, 64MiB, 1GiB, 1TiB)");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2);
        int shift = unit == null ? 0 : switch (unit.charAt(0)) {
            case 'b' -> 0;
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> throw new IllegalStateException(unit);
        };
        if (n > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("'" + text + "' is too large");
        }
        return n << shift;
    }
}
