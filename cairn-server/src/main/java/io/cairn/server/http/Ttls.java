package io.cairn.server.http;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.request.Op;
import io.cairn.server.config.Units;
import java.time.Duration;

/** Parses a per-write TTL: seconds, a duration ("500ms", "30s", "5m", "2h", "1d", "PT1M"), or "none". */
public final class Ttls {
    /** Longest accepted TTL: 100 years keeps expiry arithmetic far from overflow. */
    public static final Duration MAX = Duration.ofDays(36_500);
    /** Shortest accepted TTL: expiry times are whole milliseconds. */
    public static final Duration MIN = Duration.ofMillis(1);

    private Ttls() {}

    /**
     * A TTL given as a JSON number: seconds, whole or not, as the query parameter takes them (1e3
     * is 1000). A double beyond its range (1e400) is infinite, and one far past the limit would be
     * echoed back in hundreds of digits: both are refused as too long.
     */
    public static long parseSeconds(com.fasterxml.jackson.databind.JsonNode number) {
        if ((number.isDouble() || number.isFloat()) && !Double.isFinite(number.doubleValue())
                || number.decimalValue().abs().compareTo(java.math.BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new CairnException(ErrorCode.INVALID_TTL, "ttl must be at most " + MAX.toDays() + " days");
        }
        return parse(number.decimalValue().toPlainString());
    }

    /** Returns milliseconds, {@link Op#NO_TTL} for "none", or {@link Op#DEFAULT_TTL} when absent. */
    public static long parse(String text) {
        if (text == null) {
            return Op.DEFAULT_TTL;
        }
        String t = text.strip();
        if (t.equalsIgnoreCase("none")) {
            return Op.NO_TTL;
        }
        Duration d;
        try {
            d = Units.duration(text, 1000);
        } catch (IllegalArgumentException e) {
            throw new CairnException(ErrorCode.INVALID_TTL, "ttl " + e.getMessage());
        }
        if (d.isZero() || d.isNegative()) {
            throw new CairnException(ErrorCode.INVALID_TTL, "ttl must be positive; use 'none' for no expiry");
        }
        if (d.compareTo(MIN) < 0) {
            // Expiry is kept in whole milliseconds: a shorter TTL would round to 0, which the store reads as "never expires".
            throw new CairnException(ErrorCode.INVALID_TTL, "ttl must be at least 1ms, got '" + t + "'");
        }
        if (d.compareTo(MAX) > 0) {
            throw new CairnException(ErrorCode.INVALID_TTL, "ttl must be at most " + MAX.toDays() + " days");
        }
        return d.toMillis();
    }
}
