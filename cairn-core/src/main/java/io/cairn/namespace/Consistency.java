package io.cairn.namespace;

import java.util.Locale;

/**
 * A namespace's consistency class.
 *
 * <ul>
 *   <li>{@link #QUORUM}: Dynamo-style. Plain reads and writes go to R and W replicas and
 *       concurrent writes resolve by last-writer-wins on the version; conditional writes
 *       ({@code If-Match}, {@code If-None-Match}) and {@code consistency=serial} reads are Paxos
 *       rounds on their key.</li>
 *   <li>{@link #SERIAL}: every write and every read of the namespace is a Paxos round on its key,
 *       so the namespace is linearizable per key whatever the client asks; a plain write cannot
 *       slip between a compare and its swap.</li>
 * </ul>
 */
public enum Consistency {
    QUORUM, SERIAL;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code quorum} or {@code serial}. */
    public static Consistency parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "quorum" -> QUORUM;
            case "serial" -> SERIAL;
            default -> throw new IllegalArgumentException("consistency must be quorum or serial, got '" + text + "'");
        };
    }
}
