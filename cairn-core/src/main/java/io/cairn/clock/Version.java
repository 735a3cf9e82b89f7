package io.cairn.clock;

import java.time.Instant;

/**
 * A record version: a hybrid logical clock timestamp plus the id of the node that issued it.
 *
 * <p>Versions are totally ordered (timestamp first, then node id), so last-writer-wins is a plain
 * comparison. The timestamp packs physical milliseconds in the high 48 bits and a logical counter
 * in the low 16. Clients see a version only as its opaque {@link #token()}, used as the HTTP ETag.
 */
public record Version(long timestamp, int nodeId) implements Comparable<Version> {
    public static final int LOGICAL_BITS = 16;
    public static final long LOGICAL_MASK = (1L << LOGICAL_BITS) - 1;
    /** The largest physical time a timestamp can carry (about the year 6429): its physical part saturates there. */
    public static final long MAX_PHYSICAL_MILLIS = Long.MAX_VALUE >>> LOGICAL_BITS;

    public Version {
        if (timestamp < 0) {
            throw new IllegalArgumentException("negative timestamp " + timestamp);
        }
        if (nodeId < 0) {
            throw new IllegalArgumentException("negative node id " + nodeId);
        }
    }

    /** The timestamp of a physical time and logical counter; {@code physicalMillis} must be in 0..{@link #MAX_PHYSICAL_MILLIS}. */
    public static long pack(long physicalMillis, int logical) {
        return (physicalMillis << LOGICAL_BITS) | (logical & LOGICAL_MASK);
    }

    public long physicalMillis() {
        return timestamp >>> LOGICAL_BITS;
    }

    public int logical() {
        return (int) (timestamp & LOGICAL_MASK);
    }

    public Instant instant() {
        return Instant.ofEpochMilli(physicalMillis());
    }

    @Override
    public int compareTo(Version other) {
        int byTime = Long.compare(timestamp, other.timestamp);
        return byTime != 0 ? byTime : Integer.compare(nodeId, other.nodeId);
    }

    public boolean isNewerThan(Version other) {
        return compareTo(other) > 0;
    }

    /** The opaque text form: 16 hex digits of timestamp, a dash, the node id in hex. */
    public String token() {
        String hex = Long.toHexString(timestamp);
        return "0".repeat(16 - hex.length()) + hex + "-" + Integer.toHexString(nodeId);
    }

    /** Parses {@link #token()}; returns null when the text is not a version token. */
    public static Version parseToken(String token) {
        int dash = token.indexOf('-');
        if (dash != 16 || token.length() < 18 || token.length() > 25) {
            return null;
        }
        try {
            long ts = Long.parseUnsignedLong(token, 0, 16, 16);
            int node = Integer.parseUnsignedInt(token, 17, token.length(), 16);
            if (ts < 0 || node < 0) {
                return null;
            }
            Version v = new Version(ts, node);
            // Only the canonical form: no signs, upper case or padded node ids.
            return v.token().equals(token) ? v : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return token();
    }
}
